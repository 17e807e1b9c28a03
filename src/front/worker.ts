// The front worker thread's entry (front.ts): its settings are its workerData, its port to the main thread is
// parentPort. Started by owner.ts; never imported by anything else.
import { parentPort, workerData } from 'node:worker_threads';
import { runFront } from './front.js';
import type { FrontSettings } from './protocol.js';

if (parentPort === null) throw new Error('front/worker.js runs only as a worker thread');
runFront(workerData as FrontSettings, parentPort);
