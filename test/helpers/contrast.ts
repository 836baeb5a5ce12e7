import type { Page } from 'playwright-core';

/** Runs in the page (plain JavaScript: the tests are not compiled against the DOM's types). */
const MEASURE = `(sel) => {
  const rgba = (c) => (c.match(/[\\d.]+/g) || ['0', '0', '0', '0']).map(Number).concat([1]).slice(0, 4);
  const lum = ([r, g, b]) => {
    const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const backdrop = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] === 1) break;
    }
    let base = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) base = [r, g, b].map((v, i) => v * a + base[i] * (1 - a));
    return base;
  };
  const out = [];
  for (const el of Array.from(document.querySelectorAll(sel))) {
    const fg = rgba(getComputedStyle(el).color);
    const bg = backdrop(el);
    const blended = fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3]));
    const [hi, lo] = [lum(blended), lum(bg)].sort((a, b) => b - a);
    out.push({ text: el.textContent || '', ratio: Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100 });
  }
  return out.sort((a, b) => a.ratio - b.ratio);
}`;

/**
 * The contrast ratio (WCAG 2) of each element matching `selector` on the page: its text colour against the
 * background it stands on (the first ancestor with an opaque one, translucent ones blended in), as the browser
 * computed them. With each element's text, lowest first.
 */
export function contrasts(page: Page, selector: string): Promise<{ text: string; ratio: number }[]> {
  return page.evaluate(`(${MEASURE})(${JSON.stringify(selector)})`) as Promise<{ text: string; ratio: number }[]>;
}
