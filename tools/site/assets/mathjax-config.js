// MathJax 2.7 (Debian's libjs-mathjax, copied into the site): typeset the <script type="math/tex">
// elements that pymdownx.arithmatex writes for $...$ and $$...$$, with the CommonHTML output, and
// never look for fonts or scripts elsewhere. Loaded before MathJax.js, which reads this object.
window.MathJax = {
  messageStyle: "none",                     // no "Typesetting math" box in the corner
  showMathMenu: false,
  "HTML-CSS": { availableFonts: ["TeX"], imageFont: null },
  CommonHTML: { scale: 100 },
  menuSettings: { zoom: "None" },
};
