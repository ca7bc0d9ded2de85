import * as fs from 'fs';

import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';

/** The loopback index `serve_index.py` serves (see `tests/comm/loopback.py`). */
const INDEX = 'loop=http://127.0.0.1:8899/simple/';
const PACKAGE = 'wnui-demo';
/** On a machine without an NVIDIA GPU, an x86_64 CPU takes the index's x86-64-v1 build. */
const EXPECTED_VARIANT = 'x8664v1';
const IMAGES = '../docs/images';
/** The cell the form above stands for (the sidebar spells out its default strategy). */
const LINE = `%wninstall ${PACKAGE} --index ${INDEX} --index-strategy first-index`;

/**
 * The x86-64 psABI level of this machine, read independently of the product from the flags
 * Linux lists in /proc/cpuinfo (the psABI's feature lists; LZCNT is listed as `abm`).
 */
function expectedCpuLevel(): string | null {
  if (process.arch !== 'x64' || !fs.existsSync('/proc/cpuinfo')) {
    return null;
  }
  const line = fs
    .readFileSync('/proc/cpuinfo', 'utf8')
    .split('\n')
    .find(l => l.startsWith('flags'));
  const flags = new Set((line ?? '').split(':')[1]?.trim().split(/\s+/) ?? []);
  const all = (names: string) => names.split(' ').every(n => flags.has(n));
  const levels: [string, string][] = [
    ['v2', 'cx16 lahf_lm popcnt sse4_1 sse4_2 ssse3'],
    ['v3', 'avx avx2 bmi1 bmi2 f16c fma abm movbe xsave'],
    ['v4', 'avx512f avx512bw avx512cd avx512dq avx512vl']
  ];
  let level = 'v1';
  for (const [name, needs] of levels) {
    if (!all(needs)) {
      break;
    }
    level = name;
  }
  return `x86-64-${level}`;
}

async function openSidebar(page: IJupyterLabPageFixture): Promise<void> {
  await page.notebook.createNew('sidebar.ipynb');
  await page.click('.jp-SideBar.jp-mod-right [data-id="wheelnext-sidebar"]');
  // Ready = the kernel answered `hello` over the comm.
  await expect(page.locator('.wn-Status[data-state="ready"]')).toBeAttached({
    timeout: 60000
  });
}

async function fillInstallForm(page: IJupyterLabPageFixture): Promise<void> {
  await page.click('.wn-Tab[data-view="install"]');
  await page.fill('.wn-Requirements', PACKAGE);
  await page.locator('.wn-Requirements').blur();
  await page.fill('.wn-NewIndex', INDEX);
  await page.click('.wn-AddIndex');
  await expect(page.locator('.wn-Indexes li[data-index="loop"]')).toBeVisible();
}

type Box = { x: number; y: number; width: number; height: number };

/**
 * The sidebar's panel and its content, measured once both are laid out: right after the
 * kernel's answer the panel may still be rendering, and a box is null meanwhile.
 */
async function laidOut(page: IJupyterLabPageFixture): Promise<[Box, Box]> {
  let boxes = undefined as [Box, Box] | undefined;
  await expect
    .poll(async () => {
      const panel = await page.locator('.wn-Sidebar').boundingBox();
      const body = await page.locator('.wn-Sidebar .wn-Body').boundingBox();
      boxes = panel && body ? [panel, body] : undefined;
      return boxes !== undefined;
    })
    .toBe(true);
  return boxes!;
}

async function sidebarShot(
  page: IJupyterLabPageFixture,
  name: string
): Promise<void> {
  // The panel is as tall as the window: keep only its content (and a small margin).
  const [panel, body] = await laidOut(page);
  const height = Math.min(panel.height, body.y + body.height - panel.y + 8);
  await page.screenshot({
    path: `${IMAGES}/${name}.png`,
    clip: { x: panel.x, y: panel.y, width: panel.width, height }
  });
}

test.describe('wheel variants sidebar', () => {
  test('shows this machine’s CPU level from the real kernel', async ({
    page
  }) => {
    await openSidebar(page);
    const level = expectedCpuLevel();
    const shown = page.locator('.wn-CpuLevel');
    if (level) {
      await expect(shown).toHaveText(level, { timeout: 30000 });
    } else {
      await expect(shown).toHaveText('n/a', { timeout: 30000 });
    }
    await expect(
      page.locator('.wn-Namespaces li.wn-ok code').first()
    ).toBeVisible();
    await sidebarShot(page, 'sidebar-hardware');
    await page.theme.setDarkTheme();
    await expect(shown).toBeVisible();
    await sidebarShot(page, 'sidebar-hardware-dark');
    await page.theme.setLightTheme();
  });

  test('plan against a loopback index shows the expected variant', async ({
    page
  }) => {
    await openSidebar(page);
    await fillInstallForm(page);
    await page.click('.wn-PlanButton');
    const row = page.locator(`.wn-Plan tr[data-package="${PACKAGE}"]`);
    await expect(row.locator('.wn-PlanVariant')).toHaveText(EXPECTED_VARIANT, {
      timeout: 60000
    });
    await expect(page.locator('.wn-PlanLine')).toHaveText(LINE);
    // Planning installs nothing: no cell was run.
    await expect(page.locator('.jp-OutputArea-output')).toHaveCount(0);
    await sidebarShot(page, 'sidebar-install');
  });

  test('install runs a %wninstall cell; the output and the sidebar show the report', async ({
    page
  }) => {
    await openSidebar(page);
    await fillInstallForm(page);
    await page.click('.wn-InstallButton');

    // The notebook records the install as a cell the user can read and re-run.
    await expect(
      page.locator('.jp-CodeCell .jp-InputArea-editor').last()
    ).toHaveText(LINE);
    // The cell's output is drawn by the report's MIME renderer, not the HTML fallback.
    // The renderer is the output widget itself.
    const output = page.locator(
      `.jp-OutputArea-output.wn-ReportOutput [data-package="${PACKAGE}"]`
    );
    await expect(output).toBeVisible({ timeout: 90000 });
    await expect(output.locator('.wn-Report-variant')).toHaveText(
      EXPECTED_VARIANT
    );
    await expect(output.locator('.wn-Report-file')).toHaveText(
      `wnui_demo-1.0-py3-none-any-${EXPECTED_VARIANT}.whl`
    );

    // The sidebar turns to its Report view: the last decision and the history entry.
    const report = page.locator('.wn-ReportView');
    await expect(
      report.locator(`[data-package="${PACKAGE}"] .wn-Report-variant`)
    ).toHaveText(EXPECTED_VARIANT, { timeout: 30000 });
    await expect(report.locator('.wn-History li')).toHaveCount(1);
    await expect(report.locator('.wn-History li code')).toHaveText(LINE);
    await expect(report.locator('.wn-History li')).toContainText(
      `${PACKAGE} 1.0 (${EXPECTED_VARIANT})`
    );
    await sidebarShot(page, 'sidebar-report');
    await report.locator('.wn-Report-reasons summary').click();
    await expect(report.locator('.wn-Report-reasons li').first()).toBeVisible();
    await report
      .locator('.wn-History')
      .screenshot({ path: `${IMAGES}/sidebar-history.png` });
    await sidebarShot(page, 'sidebar-report-why');

    // Installed into this kernel's environment: importable right away.
    await page.notebook.addCell(
      'code',
      'import wnui_demo; print(wnui_demo.__name__)'
    );
    await page.notebook.runCell(1);
    expect(await page.notebook.getCellTextOutput(1)).toEqual(['wnui_demo\n']);
  });

  test('answers while another cell is busy', async ({ page }) => {
    await openSidebar(page);
    await expect(page.locator('.wn-CpuLevel')).toBeVisible({ timeout: 30000 });
    await page.notebook.setCell(0, 'code', 'import time; time.sleep(30)');
    await page.notebook.selectCells(0);
    // Start the cell without waiting for it (the galata helper waits for the run to finish).
    await page.keyboard.press('Control+Enter');
    const kernelBusy = page.locator(
      '.jp-Notebook-ExecutionIndicator[data-status="busy"]'
    );
    await expect(kernelBusy).toBeAttached({ timeout: 10000 });

    await page.click('.wn-Tab[data-view="hardware"]');
    await page.click('.wn-Refresh');
    // The refresh is served by the comm's subshell: it finishes while the cell still sleeps.
    await expect(page.locator('.wn-Status .wn-Busy')).toHaveCount(0, {
      timeout: 10000
    });
    await expect(page.locator('.wn-CpuLevel')).toBeVisible();
    await expect(kernelBusy).toBeAttached({ timeout: 1 });
  });
});
