/** Line icons drawn on a 24-unit grid; decorative, so hidden from assistive technology. */

import { svg } from "../dom.js";

const SHAPES = {
  home: [["path", { d: "M3 10.5 12 3l9 7.5V20a1 1 0 0 1-1 1h-5v-6h-6v6H4a1 1 0 0 1-1-1z" }]],
  spaces: [
    ["rect", { x: 9, y: 3, width: 6, height: 11, rx: 3 }],
    ["path", { d: "M5.5 11a6.5 6.5 0 0 0 13 0M12 17.5V21M8.5 21h7" }],
  ],
  bell: [["path", { d: "M6 17v-6a6 6 0 1 1 12 0v6l1.5 2h-15zM10 21.5h4" }]],
  mail: [
    ["rect", { x: 3, y: 5, width: 18, height: 14, rx: 2 }],
    ["path", { d: "M3.5 6.5 12 13l8.5-6.5" }],
  ],
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
  mic: [
    ["rect", { x: 9, y: 3, width: 6, height: 11, rx: 3 }],
    ["path", { d: "M5.5 11a6.5 6.5 0 0 0 13 0M12 17.5V21" }],
  ],
  "mic-off": [
    ["path", { d: "M15 9.5V6a3 3 0 0 0-5.7-1.3M9 9v2a3 3 0 0 0 4.6 2.5" }],
    [
      "path",
      {
        d: "M5.5 11a6.5 6.5 0 0 0 10.4 5.2M18.4 12.5a6.5 6.5 0 0 0 .1-1.5M12 17.5V21M3.5 3.5l17 17",
      },
    ],
  ],
  volume: [
    ["path", { d: "M4 9.5v5h3.5l4.5 4v-13l-4.5 4z" }],
    ["path", { d: "M15.5 9a4 4 0 0 1 0 6M18 6.5a7.5 7.5 0 0 1 0 11" }],
  ],
  stop: [["rect", { x: 7, y: 7, width: 10, height: 10, rx: 1.5 }]],
  hand: [
    [
      "path",
      {
        d: "M8 12V5.5a1.5 1.5 0 0 1 3 0V11M11 10.5v-7a1.5 1.5 0 0 1 3 0v7M14 10.5V5a1.5 1.5 0 0 1 3 0v7.5M17 9.5a1.5 1.5 0 0 1 3 0V14a7 7 0 0 1-7 7h-1a7 7 0 0 1-5.6-2.8L3.7 15a1.6 1.6 0 0 1 2.5-2l1.8 2",
      },
    ],
  ],
  share: [
    [
      "path",
      {
        d: "M12 15V3.5M7.5 8 12 3.5 16.5 8M5 12.5V19a1.5 1.5 0 0 0 1.5 1.5h11A1.5 1.5 0 0 0 19 19v-6.5",
      },
    ],
  ],
  plus: [["path", { d: "M12 5v14M5 12h14" }]],
  search: [
    ["circle", { cx: 11, cy: 11, r: 6.5 }],
    ["path", { d: "m16 16 4.5 4.5" }],
  ],
  people: [
    ["circle", { cx: 9, cy: 8, r: 3.5 }],
    [
      "path",
      { d: "M2.5 20a6.5 6.5 0 0 1 13 0M16 4.8a3.5 3.5 0 0 1 0 6.4M18 14a6.5 6.5 0 0 1 3.5 6" },
    ],
  ],
  calendar: [
    ["rect", { x: 3.5, y: 5, width: 17, height: 15.5, rx: 2 }],
    ["path", { d: "M3.5 10h17M8 3v4M16 3v4" }],
  ],
  close: [["path", { d: "M6 6l12 12M18 6 6 18" }]],
  flag: [["path", { d: "M5 21V4M5 4.5h12l-2.5 4 2.5 4H5" }]],
  pin: [["path", { d: "M9 3.5h6M10 3.5v6L6.5 14h11L14 9.5v-6M12 14v6.5" }]],
  poll: [["path", { d: "M5 20V10M12 20V4M19 20v-7M3 20.5h18" }]],
  play: [["path", { d: "M7 4.5v15l12-7.5z" }]],
  pause: [["path", { d: "M8 5v14M16 5v14" }]],
  download: [["path", { d: "M12 4v11M7 10.5l5 5 5-5M5 20h14" }]],
  scissors: [
    ["circle", { cx: 6, cy: 7, r: 2.5 }],
    ["circle", { cx: 6, cy: 17, r: 2.5 }],
    ["path", { d: "M8.2 8.3 19 18M8.2 15.7 19 6" }],
  ],
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
