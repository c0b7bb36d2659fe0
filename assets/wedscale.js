/* Clientside callbacks of the console: theme switch and the live page's pause gate.
   Loaded from /assets (same origin), so the Content-Security-Policy needs no inline script. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  wedscale: {
    // Flip the stored theme (null = the default, dark).
    toggleTheme: function (_clicks, theme) {
      return theme === "light" ? "dark" : "light";
    },
    // Apply the theme to Bootstrap; the icon shows what a click switches to.
    applyTheme: function (theme) {
      const mode = theme === "light" ? "light" : "dark";
      document.documentElement.setAttribute("data-bs-theme", mode);
      return mode === "dark" ? "bi bi-sun" : "bi bi-moon-stars";
    },
    // Every interval tick counts as a heartbeat; only unpaused ticks reach the server.
    liveGate: function (n, paused) {
      const pulse = paused ? window.dash_clientside.no_update : n;
      return [pulse, String(n || 0)];
    },
    livePause: function (_clicks, paused) {
      const now = !paused;
      return [now, now ? "Resume" : "Pause", now ? "warning" : "secondary"];
    },
    liveInterval: function (value) {
      const ms = parseInt(value, 10);
      return isFinite(ms) && ms > 0 ? ms : window.dash_clientside.no_update;
    }
  }
});
