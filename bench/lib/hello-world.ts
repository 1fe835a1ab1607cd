import express from 'express';

/** The reference server of the HTTP rows: express answering "Hello World!" on a free port. */
export async function helloWorld(): Promise<{ url: string; close: () => Promise<void> }> {
  const app = express();
  app.get('/', (_req, res) => {
    res.send('Hello World!');
  });
  return new Promise((done) => {
    const server = app.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      done({ url: `http://127.0.0.1:${port}`, close: () => new Promise((closed) => server.close(() => closed())) });
    });
  });
}
