export { attachKnnMonitor, type KnnMonitor, type KnnMonitorOptions } from './knn-monitor.js';
