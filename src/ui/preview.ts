// The 3D preview of a GLB/glTF output: three.js (bundled with the dashboard, loaded on demand),
// orbit controls, the model fitted to the view. Returns a function that frees it.
import * as THREE from 'three';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';

export async function showModel(container: HTMLElement, data: ArrayBuffer): Promise<() => void> {
  const width = container.clientWidth || 640;
  const height = container.clientHeight || 420;
  const renderer = new THREE.WebGLRenderer({ antialias: true, alpha: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(Math.min(2, window.devicePixelRatio));
  renderer.setSize(width, height);
  container.replaceChildren(renderer.domElement);
  const scene = new THREE.Scene();
  scene.add(new THREE.HemisphereLight(0xffffff, 0x445566, 2.2));
  const sun = new THREE.DirectionalLight(0xffffff, 2);
  sun.position.set(3, 5, 4);
  scene.add(sun);
  const camera = new THREE.PerspectiveCamera(45, width / height, 0.001, 1e7);
  const gltf = await new GLTFLoader().parseAsync(data, '');
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
    frame = requestAnimationFrame(render);
    controls.update();
    renderer.render(scene, camera);
  };
  render();
  container.dataset.loaded = 'true';
  return () => {
    cancelAnimationFrame(frame);
    controls.dispose();
    renderer.dispose();
  };
}
