// The sample in three.js and the Khronos glTF validator (prints one line per frame).
// Run by hand, in a folder where `npm install three gltf-validator` was run:
//   node benchmarks/motion_viewers/three_check.mjs OUT_DIR   (after write_sample.py OUT_DIR)
// three.js reads one JOINTS/WEIGHTS set, so it skins with each vertex's 4 strongest bones (renormalised).
import fs from "fs";
import path from "path";
import * as THREE from "three";
import { GLTFLoader } from "three/examples/jsm/loaders/GLTFLoader.js";
import validator from "gltf-validator";

const folder = process.argv[2];
const bytes = fs.readFileSync(path.join(folder, "people.glb"));
const report = await validator.validateBytes(new Uint8Array(bytes));
const issues = report.issues;
console.log(`validator ${report.validatorVersion}: ${issues.numErrors} errors, ${issues.numWarnings} warnings, ` +
            `${issues.numInfos} infos, ${issues.numHints} hints`, issues.messages.map((m) => m.code));

const expected = JSON.parse(fs.readFileSync(path.join(folder, "vertices.json")));
const fps = 24;
const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
new GLTFLoader().parse(buffer, "", (gltf) => {
  const meshes = [];
  gltf.scene.traverse((o) => { if (o.isSkinnedMesh) meshes.push(o); });
  console.log(`three r${THREE.REVISION}:`, meshes.map((m) => `${m.name} ${m.skeleton.bones.length} bones`),
              gltf.animations.map((a) => `${a.name} ${a.tracks.length} tracks of ${a.tracks[0].times.length} keys`));
  for (const clip of gltf.animations) {
    const mesh = meshes.find((m) => m.name === `${clip.name}_body`);
    const mixer = new THREE.AnimationMixer(gltf.scene);
    const action = mixer.clipAction(clip);
    action.setLoop(THREE.LoopOnce);
    action.clampWhenFinished = true; // the last key is the clip's end: do not wrap to the first
    action.play();
    for (let frame = 0; `${clip.name}_${frame}` in expected; frame++) {
      mixer.setTime(frame / fps);
      gltf.scene.updateMatrixWorld(true);
      const want = expected[`${clip.name}_${frame}`];
      const v = new THREE.Vector3();
      let worst = 0;
      for (let i = 0; i < want.length; i++) {
        mesh.getVertexPosition(i, v); // a SkinnedMesh's: skinned
        worst = Math.max(worst, v.applyMatrix4(mesh.matrixWorld).distanceTo(new THREE.Vector3(...want[i])));
      }
      console.log(`three ${clip.name} frame ${frame}: max error ${(1000 * worst).toFixed(3)} mm`);
    }
    mixer.stopAllAction();
  }
}, (error) => console.error(error));
