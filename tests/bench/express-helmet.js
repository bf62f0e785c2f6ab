// Peer (d): the kind of app this service replaces, Express + helmet.
'use strict';
const express = require('express');
const helmet = require('helmet');

const app = express();
app.use(helmet());
app.get('/', (req, res) => res.type('text/plain').send(`Hello ${req.query.name || 'John'}!`));
app.get('/bye', (req, res) => res.type('text/plain').send(`Goodbye ${req.query.name || 'John'}!`));
app.listen(Number(process.env.PORT), '127.0.0.1');
