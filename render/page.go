package render

import (
	"crypto/sha256"
	"encoding/base64"
)

// pageCSS is report.html's own stylesheet: fluid on a phone, dark when the
// reader's system is, plain in print (no controls, no dark background).
const pageCSS = `*{box-sizing:border-box}
[hidden]{display:none!important}
:root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--muted:#59636e;--line:#d1d9e0;--code:#eff1f3;--link:#0969da;
--crit:#cf222e;--imp:#bf8700;--sug:#0969da;--tag-bg:#ddf4ff;--tag-fg:#0550ae;--note-bg:#fff8c5;--note-line:#d4a72c;
--dur:#0969da;--lead:#bf3989;--wall:#cf222e;--tin:#8250df;--tcached:#c297ff;--tout:#1a7f37;--cost:#1a7f37}
@media screen and (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;--line:#3d444d;--code:#262c36;--link:#4493f8;
--crit:#f85149;--imp:#d29922;--sug:#4493f8;--tag-bg:#121d2f;--tag-fg:#9ecbff;--note-bg:#2e2a13;--note-line:#9e6a03;
--dur:#4493f8;--lead:#f778ba;--wall:#f85149;--tin:#ab7df8;--tcached:#6e40c9;--tout:#3fb950;--cost:#3fb950}}
body{margin:0;font:16px/1.55 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:60rem;margin:0 auto;padding:1rem}
h1,h2,h3,h4{line-height:1.25;margin:1.6em 0 .6em}
h1{font-size:1.7em}h2{font-size:1.4em;border-bottom:1px solid var(--line);padding-bottom:.3em}h3{font-size:1.15em}
a{color:var(--link)}
a.anchor{color:var(--muted);text-decoration:none;margin-left:.35em;font-weight:normal;visibility:hidden}
h1:hover a.anchor,h2:hover a.anchor,h3:hover a.anchor,h4:hover a.anchor,a.anchor:focus{visibility:visible}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.875em}
:not(pre)>code{background:var(--code);padding:.1em .3em;border-radius:4px;overflow-wrap:anywhere}
pre{overflow-x:auto;padding:.75em;border-radius:6px;border:1px solid var(--line);margin:.75em 0}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:.75em 0}
th,td{border:1px solid var(--line);padding:.35em .6em;text-align:left;vertical-align:top}
td.n{text-align:right}
.meta{color:var(--muted);font-size:.95em}
.tag{display:inline-block;background:var(--tag-bg);color:var(--tag-fg);border-radius:1em;padding:0 .6em;font-size:.85em;margin-right:.25em}
.finding{border-left:4px solid var(--line);padding-left:.9em;margin:1.5em 0}
.finding.critical{border-color:var(--crit)}.finding.important{border-color:var(--imp)}.finding.suggestion{border-color:var(--sug)}
.sev{font-weight:600}.sev.critical{color:var(--crit)}.sev.important{color:var(--imp)}.sev.suggestion{color:var(--sug)}
.notes{color:var(--muted)}
.note{background:var(--note-bg);border:1px solid var(--note-line);border-radius:6px;padding:.5em .9em}
nav.toc ul{columns:14rem;padding-left:1.2em}
table.index{width:100%}table.index td:first-child{white-space:nowrap;font-weight:600}table.index td:nth-child(3) code{white-space:nowrap;overflow-wrap:normal}
.filters{display:flex;flex-wrap:wrap;gap:.4em 1.2em;align-items:center;margin:.5em 0}
.filters fieldset{border:1px solid var(--line);border-radius:6px;padding:.2em .7em;margin:0}
.filters label{margin-right:.6em;white-space:nowrap}
.filters select{font:inherit}
.copy-wrap{position:relative}
button.copy{position:absolute;top:.35em;right:.35em;font:inherit;font-size:.8em;padding:.1em .6em;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);cursor:pointer}
.chroma .ln a{color:inherit;text-decoration:none}.chroma .ln a:hover{text-decoration:underline}
svg.chart{max-width:100%;height:auto;color:var(--fg)}
svg.chart text{font:12px -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;fill:currentColor}
svg.chart text.h{font-weight:600;font-size:13px}
svg.chart .axis{stroke:var(--line)}
svg.chart .b-dur{fill:var(--dur)}svg.chart .b-lead{fill:var(--lead)}
svg.chart .wall{stroke:var(--wall);stroke-width:2;stroke-dasharray:4 3}svg.chart text.wall{fill:var(--wall);stroke:none}
svg.chart .b-critical{fill:var(--crit)}svg.chart .b-important{fill:var(--imp)}svg.chart .b-suggestion{fill:var(--sug)}
svg.chart .b-input{fill:var(--tin)}svg.chart .b-cached{fill:var(--tcached)}svg.chart .b-output{fill:var(--tout)}
svg.chart .b-cost{fill:var(--cost)}
@media (max-width:40rem){body{font-size:15px}main{padding:.6rem}th,td{padding:.25em .4em}}
@media print{a.anchor,nav.toc,.filters,button.copy{display:none!important}body{color:#000;background:#fff}main{max-width:none;padding:0}a{color:inherit}
pre{white-space:pre-wrap;overflow-wrap:anywhere;border-color:#999}
.finding{break-inside:avoid-page}h2,h3{break-after:avoid}details>*{display:block}svg.chart{break-inside:avoid}}
`

// pageJS is report.html's one script, a progressive enhancement: it shows
// the filters and the copy buttons (hidden in the HTML, so a reader without
// JavaScript sees no dead controls) and wires them. The index, the anchors
// and the per-file view are plain HTML and work without it. No handler is
// inline: the Content-Security-Policy allows this script by its hash only.
const pageJS = `(function () {
  "use strict";
  var d = document;
  var filters = d.getElementById("filters");
  if (filters) {
    var items = d.querySelectorAll("[data-finding]");
    var boxes = filters.querySelectorAll("input[name=severity]");
    var sel = filters.querySelector("select[name=reviewer]");
    var count = d.getElementById("filter-count");
    var apply = function () {
      var off = {};
      boxes.forEach(function (b) { off[b.value] = !b.checked; });
      var who = sel ? sel.value : "";
      var shown = 0, total = 0;
      items.forEach(function (el) {
        var ok = !off[el.getAttribute("data-severity")] &&
          (who === "" || (" " + el.getAttribute("data-reviewers") + " ").indexOf(" " + who + " ") >= 0);
        el.hidden = !ok;
        if (el.tagName === "TR") { total++; if (ok) { shown++; } }
      });
      if (count) { count.textContent = "Showing " + shown + " of " + total + " findings"; }
    };
    boxes.forEach(function (b) { b.addEventListener("change", apply); });
    if (sel) { sel.addEventListener("change", apply); }
    filters.hidden = false;
    apply();
  }
  if (navigator.clipboard) {
    d.querySelectorAll("button.copy").forEach(function (btn) {
      var pre = btn.parentNode.querySelector("pre");
      if (!pre) { return; }
      btn.hidden = false;
      btn.addEventListener("click", function () {
        navigator.clipboard.writeText(pre.textContent).then(function () {
          btn.textContent = "Copied";
          btn.setAttribute("data-copied", "true");
        }, function () {
          btn.textContent = "Copy failed";
        });
      });
    });
  }
})();
`

// cspHash is the Content-Security-Policy source that allows exactly the
// inline element whose text is s.
func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// contentSecurityPolicy forbids every fetch (scripts, styles, images,
// fonts, frames, connections, forms) except the page's own inline style
// and script, allowed by their hashes; nothing is allowed 'unsafe-inline'.
func contentSecurityPolicy(style, script string) string {
	return "default-src 'none'; style-src " + cspHash(style) + "; script-src " + cspHash(script) +
		"; img-src 'none'; font-src 'none'; connect-src 'none'; frame-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'"
}
