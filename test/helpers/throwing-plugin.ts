// A plugin module that fails on load, for the tests of worker threads that cannot start.
throw new Error('this plugin module fails to load (test fixture)');
