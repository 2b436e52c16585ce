/** Line icons drawn on a 24-unit grid; decorative, so hidden from assistive technology. */

import { svg } from "../dom.js";

const SHAPES = {
  home: [["path", { d: "M3 10.5 12 3l9 7.5V20a1 1 0 0 1-1 1h-5v-6h-6v6H4a1 1 0 0 1-1-1z" }]],
  spaces: [
    ["rect", { x: 9, y: 3, width: 6, height: 11, rx: 3 }],
    ["path", { d: "M5.5 11a6.5 6.5 0 0 0 13 0M12 17.5V21M8.5 21h7" }],
  ],
  bell: [["path", { d: "M6 17v-6a6 6 0 1 1 12 0v6l1.5 2h-15zM10 21.5h4" }]],
  user: [
    ["circle", { cx: 12, cy: 8, r: 4 }],
    ["path", { d: "M4 21a8 8 0 0 1 16 0" }],
  ],
  settings: [
    ["path", { d: "M4 7h9M17 7h3M4 17h3M11 17h9" }],
    ["circle", { cx: 15, cy: 7, r: 2 }],
    ["circle", { cx: 9, cy: 17, r: 2 }],
  ],
  logout: [
    ["path", { d: "M14 4h5a1 1 0 0 1 1 1v14a1 1 0 0 1-1 1h-5M9 16.5 4.5 12 9 7.5M4.5 12H15" }],
  ],
  sun: [
    ["circle", { cx: 12, cy: 12, r: 4 }],
    [
      "path",
      {
        d: "M12 2.5v2M12 19.5v2M2.5 12h2M19.5 12h2M5.3 5.3l1.4 1.4M17.3 17.3l1.4 1.4M5.3 18.7l1.4-1.4M17.3 6.7l1.4-1.4",
      },
    ],
  ],
  moon: [["path", { d: "M20 14.5A8.5 8.5 0 1 1 9.5 4a7 7 0 0 0 10.5 10.5z" }]],
  more: [
    ["circle", { cx: 5, cy: 12, r: 1.6, fill: "currentColor" }],
    ["circle", { cx: 12, cy: 12, r: 1.6, fill: "currentColor" }],
    ["circle", { cx: 19, cy: 12, r: 1.6, fill: "currentColor" }],
  ],
};

export function icon(name, size = 24) {
  return svg(
    "svg",
    {
      class: `icon icon-${name}`,
      viewBox: "0 0 24 24",
      width: size,
      height: size,
      fill: "none",
      stroke: "currentColor",
      "stroke-width": 1.8,
      "stroke-linecap": "round",
      "stroke-linejoin": "round",
      "aria-hidden": "true",
      focusable: "false",
    },
    SHAPES[name].map(([tag, attrs]) => svg(tag, attrs)),
  );
}
