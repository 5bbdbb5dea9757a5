declare module 'wgsl-preprocessor/wgsl-preprocessor.js' {
  /** Tagged template that evaluates `#if ${cond}` / `#elif` / `#else` / `#endif` blocks. */
  export function wgsl(strings: TemplateStringsArray, ...values: unknown[]): string;
}
