// The part of d3-scale-chromatic the page uses (the package ships no types).
declare module 'd3-scale-chromatic' {
  /** t in [0, 1] -> a CSS colour string ("#rrggbb" or "rgb(r, g, b)"). */
  export function interpolateViridis(t: number): string;
  /** ColorBrewer OrRd, sequential: near-white (0) to dark red (1). */
  export function interpolateOrRd(t: number): string;
  /** ColorBrewer RdBu, diverging: red (0) through white (0.5) to blue (1). */
  export function interpolateRdBu(t: number): string;
}
