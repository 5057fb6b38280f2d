// A minimal IFC4 model written in code: a project → site → building → storey holding a wall and a
// slab, each an extruded rectangle. In metres (IFC axes, Z up):
//   'North wall' (IfcWall): 4 × 0.2 × 3, x 0..4, y 0..0.2, z 0..3, coloured sRGB (0.8, 0.2, 0.1)
//   unnamed IfcSlab:        4 × 3 × 0.2, x 0..4, y 0..3,   z -0.2..0, uncoloured (or see `slabColour`)

export interface IfcFixtureOptions {
  /** The project's length unit; the coordinates are written in it. */
  unit?: 'm' | 'mm';
  /** Gives the slab a colour too: sRGB and its IFC transparency (0 opaque, 1 invisible). */
  slabColour?: { rgb: [number, number, number]; transparency: number };
}

/** The express ID of each entity a test may name. */
export const IFC_IDS = { wall: 100, slab: 200 } as const;

/** Text of a small valid IFC4 file (ISO 10303-21). */
export function twoBoxesIfc(options: IfcFixtureOptions = {}): string {
  const k = options.unit === 'mm' ? 1000 : 1; // file units per metre
  const n = (metres: number) => (metres * k).toFixed(1);
  const point = (x: number, y: number, z: number) => `IFCCARTESIANPOINT((${n(x)},${n(y)},${n(z)}))`;
  let guid = 0;
  const id = () => `'${String(++guid).padStart(22, '0')}'`; // 22 characters, as IfcGloballyUniqueId
  const prefix = options.unit === 'mm' ? '.MILLI.' : '$';
  const colour = (ref: number, item: number, rgb: [number, number, number], transparency: number, name: string) => [
    `#${ref}=IFCCOLOURRGB($,${rgb.join(',')});`,
    `#${ref + 1}=IFCSURFACESTYLESHADING(#${ref},${transparency.toFixed(2)});`,
    `#${ref + 2}=IFCSURFACESTYLE('${name}',.BOTH.,(#${ref + 1}));`,
    `#${ref + 3}=IFCSTYLEDITEM(#${item},(#${ref + 2}),$);`,
  ];
  const data = [
    // Units, axes and the geometric context.
    `#1=IFCSIUNIT(*,.LENGTHUNIT.,${prefix},.METRE.);`,
    `#2=IFCUNITASSIGNMENT((#1));`,
    `#3=${point(0, 0, 0)};`,
    `#4=IFCDIRECTION((0.,0.,1.));`,
    `#5=IFCDIRECTION((1.,0.,0.));`,
    `#6=IFCAXIS2PLACEMENT3D(#3,#4,#5);`,
    `#7=IFCGEOMETRICREPRESENTATIONCONTEXT($,'Model',3,1.E-05,#6,$);`,
    `#8=IFCGEOMETRICREPRESENTATIONSUBCONTEXT('Body','Model',*,*,*,*,#7,$,.MODEL_VIEW.,$);`,
    `#9=IFCCARTESIANPOINT((0.,0.));`,
    `#10=IFCAXIS2PLACEMENT2D(#9,$);`,
    // The spatial structure.
    `#20=IFCPROJECT(${id()},$,'Two boxes',$,$,$,$,(#7),#2);`,
    `#21=IFCLOCALPLACEMENT($,#6);`,
    `#22=IFCSITE(${id()},$,'Site',$,$,#21,$,$,.ELEMENT.,$,$,$,$,$);`,
    `#23=IFCLOCALPLACEMENT(#21,#6);`,
    `#24=IFCBUILDING(${id()},$,'Building',$,$,#23,$,$,.ELEMENT.,$,$,$);`,
    `#25=IFCLOCALPLACEMENT(#23,#6);`,
    `#26=IFCBUILDINGSTOREY(${id()},$,'Ground floor',$,$,#25,$,$,.ELEMENT.,0.);`,
    `#27=IFCRELAGGREGATES(${id()},$,$,$,#20,(#22));`,
    `#28=IFCRELAGGREGATES(${id()},$,$,$,#22,(#24));`,
    `#29=IFCRELAGGREGATES(${id()},$,$,$,#24,(#26));`,
    `#30=IFCRELCONTAINEDINSPATIALSTRUCTURE(${id()},$,$,$,(#100,#200),#26);`,
    // The wall: a 4 × 0.2 rectangle centred on its placement at (2, 0.1, 0), extruded 3 up.
    `#100=IFCWALL(${id()},$,'North wall',$,$,#101,#105,$,.STANDARD.);`,
    `#101=IFCLOCALPLACEMENT(#25,#102);`,
    `#102=IFCAXIS2PLACEMENT3D(#103,$,$);`,
    `#103=${point(2, 0.1, 0)};`,
    `#104=IFCRECTANGLEPROFILEDEF(.AREA.,$,#10,${n(4)},${n(0.2)});`,
    `#105=IFCPRODUCTDEFINITIONSHAPE($,$,(#106));`,
    `#106=IFCSHAPEREPRESENTATION(#8,'Body','SweptSolid',(#107));`,
    `#107=IFCEXTRUDEDAREASOLID(#104,#6,#4,${n(3)});`,
    ...colour(110, 107, [0.8, 0.2, 0.1], 0, 'Brick'),
    // The slab: a 4 × 3 rectangle centred on its placement at (2, 1.5, -0.2), extruded 0.2 up.
    `#200=IFCSLAB(${id()},$,$,$,$,#201,#205,$,.FLOOR.);`,
    `#201=IFCLOCALPLACEMENT(#25,#202);`,
    `#202=IFCAXIS2PLACEMENT3D(#203,$,$);`,
    `#203=${point(2, 1.5, -0.2)};`,
    `#204=IFCRECTANGLEPROFILEDEF(.AREA.,$,#10,${n(4)},${n(3)});`,
    `#205=IFCPRODUCTDEFINITIONSHAPE($,$,(#206));`,
    `#206=IFCSHAPEREPRESENTATION(#8,'Body','SweptSolid',(#207));`,
    `#207=IFCEXTRUDEDAREASOLID(#204,#6,#4,${n(0.2)});`,
    ...(options.slabColour ? colour(210, 207, options.slabColour.rgb, options.slabColour.transparency, 'Glass') : []),
  ];
  return [
    'ISO-10303-21;',
    'HEADER;',
    "FILE_DESCRIPTION(('ViewDefinition [ReferenceView]'),'2;1');",
    "FILE_NAME('two-boxes.ifc','2024-01-01T00:00:00',(''),(''),'pixyz-scheduler tests','','');",
    "FILE_SCHEMA(('IFC4'));",
    'ENDSEC;',
    'DATA;',
    ...data,
    'ENDSEC;',
    'END-ISO-10303-21;',
    '',
  ].join('\n');
}
