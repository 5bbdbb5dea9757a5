declare module 'wgsl-preprocessor' {
  /** Tagged template that evaluates `#if ${cond}` / `#elif` / `#else` / `#endif` blocks. */
  export function wgsl(strings: TemplateStringsArray, ...values: unknown[]): string;
}
