// Package e2e holds taskware's browser tests: the web view (package web),
// served from a real Redis on a loopback test server, loaded page by page
// in headless Chromium driven by chromedp.
//
// The package has no code of its own; its tests seed a known state through
// taskware's API (queues with ready, running, delayed and dead tasks, held
// locks, stored results, and a task whose name, arguments and error are a
// script tag), read the numbers the pages show by their data-testid
// attributes (see package web), click requeue, purge and break, and check
// Redis afterwards. It is a module of its own so that the core does not
// depend on chromedp. See README.md for how to run it.
package e2e
