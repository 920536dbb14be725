// Series colours: Warnings in warm hues, Normal in cool ones, so type reads at a glance
// whether the chart is by type or by reason.

const WARM = ["#d9480f", "#e8590c", "#f08c00", "#c92a2a", "#e64980", "#f59f00", "#a61e4d", "#ff922b"];
const COOL = ["#1c7ed6", "#0ca678", "#4263eb", "#15aabf", "#7048e8", "#2f9e44", "#3bc9db", "#5c940d"];

export function seriesColor(type, index) {
  if (type === "Warning") return WARM[index % WARM.length];
  if (type === "Normal") return COOL[index % COOL.length];
  return "#868e96";
}
