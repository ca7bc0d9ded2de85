/**
 * Galata's base configuration with the system's Chromium (no browser download), JupyterLab and
 * the loopback index started next to it.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

// Not JupyterLab's usual 8888, so that a JupyterLab the developer is running is never reused.
const LAB_URL = 'http://localhost:18888';

module.exports = {
  ...baseConfig,
  reporter: [['list'], ['html', { open: 'never' }]],
  // A kernel start, detection and an install fit well inside two minutes on two cores.
  timeout: 120 * 1000,
  // The tests share one server and one kernel environment; the subshell test needs the CPU.
  workers: 1,
  use: {
    ...baseConfig.use,
    baseURL: LAB_URL,
    // Video would need Playwright's own ffmpeg download.
    video: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/lib/chromium/chromium'
    }
  },
  webServer: [
    {
      command: 'jupyter lab --config jupyter_server_test_config.py',
      url: `${LAB_URL}/lab`,
      timeout: 120 * 1000,
      reuseExistingServer: false,
      // Let the servers clean up their temporary directories (the default is SIGKILL).
      gracefulShutdown: { signal: 'SIGTERM', timeout: 10000 }
    },
    {
      command: 'python serve_index.py --port 8899',
      // The index has no root page; the demo project's page answers once the wheels are built.
      url: 'http://127.0.0.1:8899/simple/wnui-demo/',
      timeout: 60 * 1000,
      reuseExistingServer: false,
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5000 }
    }
  ]
};
