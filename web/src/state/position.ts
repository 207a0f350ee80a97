/**
 * The selected query position as drawn: the reader's choice (-1 = the last
 * token) clamped to the T tokens of the text. A position past the end (the
 * text got shorter) also means the last token. T = 0 gives -1.
 */
export function clampPosition(position: number, T: number): number {
  return position < 0 || position >= T ? T - 1 : position;
}
