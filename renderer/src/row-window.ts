/**
 * Which rows a virtual list draws: those in view at its scroll position, plus `overscan` either side. The scroll
 * position is the last one the list was told of, which may stand past the end when the rows have just shrunk (a
 * filter applied while scrolled down): the browser clamps its own scrollTop and says so in a later scroll event,
 * so until then the window is taken from the position the browser will clamp to, never an empty slice of a
 * non-empty list.
 */
export interface RowWindow {
  readonly first: number;
  readonly last: number;
}

export function rowWindow(scrollTop: number, rowHeight: number, height: number, count: number, overscan: number): RowWindow {
  const furthest = Math.max(0, count * rowHeight - height);
  const top = Math.min(Math.max(0, scrollTop), furthest);
  return {
    first: Math.max(0, Math.floor(top / rowHeight) - overscan),
    last: Math.min(count, Math.ceil((top + height) / rowHeight) + overscan),
  };
}
