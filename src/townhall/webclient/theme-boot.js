// Runs before first paint (a classic script in <head>) so a saved theme never flashes.
(function () {
  try {
    var theme = localStorage.getItem("townhall.theme");
    if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  } catch (e) {
    // No storage: follow the system theme.
  }
})();
