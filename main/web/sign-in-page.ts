/** The web UI's sign-in page, served before the browser has a session. Styled from /sign-in.css (the CSP allows no inline style). */

export const SIGN_IN_CSS = `:root{color-scheme:light dark;--bg:#fbfbfa;--fg:#1d1f21;--muted:#5f6368;--line:#d0d0cc;--accent:#1f6feb;--error:#b3261e}
@media (prefers-color-scheme:dark){:root{--bg:#16181b;--fg:#e6e6e3;--muted:#9aa0a6;--line:#3a3f46;--accent:#58a6ff;--error:#f2b8b5}}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
main{max-width:30rem;margin:5rem auto;padding:0 1.5rem}
h1{font-size:1.6rem;margin:0 0 1rem}
p{color:var(--muted)}
label{display:block;font-weight:600;margin:1.5rem 0 .4rem}
input{box-sizing:border-box;width:100%;padding:.55rem .7rem;font:inherit;color:inherit;background:transparent;border:1px solid var(--line);border-radius:6px}
input:focus{outline:2px solid var(--accent);outline-offset:1px}
button{margin-top:1rem;padding:.5rem 1.2rem;font:inherit;font-weight:600;color:#fff;background:var(--accent);border:0;border-radius:6px;cursor:pointer}
.error{color:var(--error);font-weight:600}
code{font-size:.9em}`;

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Gatehouse — sign in</title><link rel="stylesheet" href="/sign-in.css"></head><body><main>${body}</main></body></html>`;
}

export function signInPage(error: string): string {
  return page(`<h1>Gatehouse</h1>
<p>Open the link that <code>gatehouse serve</code> printed, or paste the API token: the <code>api-token</code> file in the data directory (not <code>token</code>, which MCP clients use).</p>
${error ? `<p role="alert" class="error">${escape(error)}</p>` : ''}
<form method="post" action="/login"><label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="off" required autofocus>
<button type="submit">Sign in</button></form>`);
}

export function messagePage(html: string): string {
  return page(`<h1>Gatehouse</h1><p>${html}</p>`);
}
