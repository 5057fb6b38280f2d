// The 3D preview of a GLB/glTF output: three.js (bundled with the dashboard, loaded on demand),
// orbit controls, the model fitted to the view. Returns a function that frees it. A frame is drawn
// when something changed (the camera moved, the view was resized), not at every repaint: a still
// model kept a core and the GPU busy for nothing.
import * as THREE from 'three';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';

export async function showModel(container: HTMLElement, data: ArrayBuffer): Promise<() => void> {
  const width = container.clientWidth || 640;
  const height = container.clientHeight || 420;
  const renderer = new THREE.WebGLRenderer({ antialias: true, alpha: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(Math.min(2, window.devicePixelRatio));
  renderer.setSize(width, height);
  const scene = new THREE.Scene();
  scene.add(new THREE.HemisphereLight(0xffffff, 0x445566, 2.2));
  const sun = new THREE.DirectionalLight(0xffffff, 2);
  sun.position.set(3, 5, 4);
  scene.add(sun);
  const camera = new THREE.PerspectiveCamera(45, width / height, 0.001, 1e7);
  const gltf = await new GLTFLoader().parseAsync(data, '').catch((err: unknown) => {
    renderer.dispose(); // its WebGL context: a browser keeps only a few
    throw err;
  });
  container.replaceChildren(renderer.domElement); // what the container showed while loading goes now
  scene.add(gltf.scene);
  // Fit to view: the camera looks at the model's bounding sphere from a fixed angle.
  const box = new THREE.Box3().setFromObject(gltf.scene);
  const sphere = box.getBoundingSphere(new THREE.Sphere());
  const radius = sphere.radius || 1;
  const distance = radius / Math.sin((camera.fov * Math.PI) / 360);
  camera.position.copy(sphere.center).add(new THREE.Vector3(1, 0.8, 1.2).normalize().multiplyScalar(distance * 1.1));
  camera.near = distance / 100;
  camera.far = distance * 100;
  camera.updateProjectionMatrix();
  const controls = new OrbitControls(camera, renderer.domElement);
  controls.target.copy(sphere.center);
  controls.update();
  let frame = 0;
  const render = () => {
    frame = 0;
    renderer.render(scene, camera);
  };
  /** One frame at the next repaint, however many changes ask for it before then. */
  const invalidate = () => {
    frame ||= requestAnimationFrame(render);
  };
  controls.addEventListener('change', invalidate);
  // The container's size follows the page's (a window resized, a phone turned).
  const resized = new ResizeObserver(() => {
    const w = container.clientWidth;
    const h = container.clientHeight;
    if (!w || !h || (w === renderer.domElement.clientWidth && h === renderer.domElement.clientHeight)) return;
    renderer.setSize(w, h);
    camera.aspect = w / h;
    camera.updateProjectionMatrix();
    invalidate();
  });
  resized.observe(container);
  render(); // the first frame now: the model shows as the promise resolves
  container.dataset.loaded = 'true';
  return () => {
    cancelAnimationFrame(frame);
    resized.disconnect();
    controls.removeEventListener('change', invalidate);
    controls.dispose();
    renderer.dispose();
  };
}
