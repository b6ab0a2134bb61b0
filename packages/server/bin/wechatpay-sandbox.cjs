#!/usr/bin/env node
// The `wechatpay-sandbox` command. A plain file (not built) so that `npm install` on a fresh clone links
// it into node_modules/.bin before the `prepare` script has built dist/: npm skips a bin whose file is
// missing, which left `npx wechatpay-sandbox` with "could not determine executable to run".
try {
  await import('../dist/cli/main.js');
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    process.stderr.write(
      'error: wechatpay-sandbox is not built yet; run `npm run build` in the repository (npm install builds it too)\n',
    );
    process.exit(1);
  }
  throw err;
}
