// Peer (c): the plain Node.js http hello server a user might pick instead.
'use strict';
const http = require('node:http');

const port = Number(process.env.PORT);
http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const name = url.searchParams.get('name') || 'John';
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`Hello ${name}!`);
}).listen(port, '127.0.0.1');
