// The WGSL template tag (wgsl-preprocessor: `#if ${cond}` blocks in tagged templates). Kernels import it
// from here; the package ships no `main`, so its file is named once, in this place.
export { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
