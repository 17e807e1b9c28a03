// Issue 8: the shipped configuration.yml and users_database.yml work as their comments say, in Chromium: apps
// under home.localhost behind nginx (the shipped laptop site and snippets, its host names moved from
// nginx.localhost to home.localhost) sign in through the portal at auth.home.localhost, and the session cookie
// reaches them. With the former `localhost` cookie domain this path ended in ERR_TOO_MANY_REDIRECTS: browsers
// refuse Domain=localhost, so the cookie never reached app.localhost. Only ports and file locations are changed.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { packageRoot } from '../../src/paths.js';
import { freePort, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { launchChromium } from './helpers/browser.js';
import { nginxMainConfig, shippedFile, substitute, writeFile } from './helpers/proxy-configs.js';
import { startEchoUpstream, type Echo, type EchoUpstream } from './helpers/proxies.js';

const DEMO_PASSWORD = 'password'; // users_database.yml: john (admins, dev), harry (dev)

describe('the example configuration behind nginx, in Chromium (cookie domain home.localhost)', () => {
  let dir: string;
  let gatehouse: ServerProcess;
  let echo: EchoUpstream;
  let nginx: ChildProcess;
  let nginxPort: number;
  let nginxOutput = '';
  let browser: Browser;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-example-'));
    const port = await freePort();
    const configText = substitute(
      shippedFile('configuration.yml'),
      [
        { find: '9091', replace: String(port) },
        { find: './users_database.yml', replace: join(packageRoot, 'users_database.yml') },
        { find: './data/db', replace: join(dir, 'db') },
        { find: './data/notification.txt', replace: join(dir, 'notification.txt') },
      ],
      'configuration.yml',
    );
    gatehouse = await startServerProcess(writeFile(join(dir, 'configuration.yml'), configText), port);

    echo = await startEchoUpstream();
    nginxPort = await freePort();
    const site = substitute(
      shippedFile('deploy/nginx/gatehouse.conf'),
      [
        { find: 'nginx.localhost', replace: 'home.localhost' },
        { find: 'server_name secure.home.localhost;', replace: 'server_name admin.home.localhost;' },
        { find: 'server gatehouse:9091;', replace: `server 127.0.0.1:${port};` },
        { find: 'server app:80;', replace: `server 127.0.0.1:${echo.port};` },
        { find: 'server secure:80;', replace: `server 127.0.0.1:${echo.port};` },
        { find: 'listen 80;', replace: `listen 127.0.0.1:${nginxPort};` },
        { find: 'listen 80 default_server;', replace: `listen 127.0.0.1:${nginxPort} default_server;` },
        { find: '/etc/nginx/snippets/gatehouse/', replace: `${join(packageRoot, 'nginx')}/` },
      ],
      'deploy/nginx/gatehouse.conf',
    );
    const main = writeFile(join(dir, 'nginx.conf'), nginxMainConfig(dir, writeFile(join(dir, 'site.conf'), site)));
    const errorLog = join(dir, 'error.log');
    nginx = spawn('nginx', ['-c', main, '-p', `${dir}/`, '-e', errorLog], { stdio: ['ignore', 'pipe', 'pipe'] });
    nginx.stdout!.on('data', (d: Buffer) => (nginxOutput += d.toString()));
    nginx.stderr!.on('data', (d: Buffer) => (nginxOutput += d.toString()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        // The shipped site closes connections for unknown host names (444), so being ready is accepting one.
        await new Promise<void>((resolve, reject) => {
          const socket = connect(nginxPort, '127.0.0.1', () => {
            socket.destroy();
            resolve();
          });
          socket.once('error', reject);
        });
        break;
      } catch {
        if (nginx.exitCode !== null || Date.now() > deadline) {
          throw new Error(
            `nginx did not start:\n${nginxOutput}${existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : ''}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    if (nginx && nginx.exitCode === null) {
      const exited = once(nginx, 'exit');
      nginx.kill('SIGTERM');
      await exited;
    }
    await gatehouse?.stop();
    await echo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens `app` in a fresh browser, is sent to the portal, signs in as `user`: where the browser ends up. */
  async function signInAt(app: string, user: string): Promise<Page> {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`http://${app}.home.localhost:${nginxPort}/`);
    assert.equal(
      new URL(page.url()).host,
      `auth.home.localhost:${new URL(gatehouse.url).port}`,
      'sent to the portal the comments name',
    );
    await page.getByLabel('Username').fill(user);
    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    return page;
  }

  it('harry signs in from app.home.localhost and lands on the app, which sees him (the cookie reaches the app)', async () => {
    const page = await signInAt('app', 'harry');
    await page.waitForURL(`http://app.home.localhost:${nginxPort}/`);
    const seen = JSON.parse((await page.textContent('body')) ?? '') as Echo;
    assert.equal(seen.headers['remote-user'], 'harry');
    const cookies = await page.context().cookies();
    assert.deepEqual(
      cookies.map((cookie) => [cookie.name, cookie.domain]),
      [['gatehouse_home_session', '.home.localhost']],
    );
    await page.context().close();
  });

  it('admin.home.localhost is refused to harry, who is not an admin (the example no longer lets every user in)', async () => {
    const page = await signInAt('admin', 'harry');
    await page.getByText('Access denied').waitFor();
    await page.context().close();
  });

  it('admin.home.localhost asks john (an admin) for the second factor its rule requires', async () => {
    const page = await signInAt('admin', 'john');
    await page
      .getByText(/security key/i)
      .first()
      .waitFor();
    assert.equal(new URL(page.url()).hostname, 'auth.home.localhost', 'still on the portal: two_factor needs a key');
    await page.context().close();
  });
});
