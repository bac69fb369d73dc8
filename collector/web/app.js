// app.js - the incident page: polls /api/v1/status and /api/v1/diagnose every 2 s and draws
// the verdict, the findings, the fleet grid and the last verification of each release; then
// asks /api/v1/history for the events since the newest one it holds and draws the last hour
// as an SVG timeline. Names come from agents and may be hostile: every text goes in through
// textContent or setAttribute, never as HTML.
'use strict';

const POLL_MS = 2000;
const MARKS = { ok: '\u2713', warn: '!', fail: '\u2717', unknown: '?' };

let drawnDiag = '';          // the diagnosis drawn: redrawn only when it changes
let drawnVerifications = ''; // the verifications drawn: likewise
let gridMarked = false; // performance marks of the first grid drawn (bench/web/page_load.sh)

// el(tag, className, text): a new element; text (optional) is set as text.
function el(tag, className, text) {
	const e = document.createElement(tag);
	if (className) {
		e.className = className;
	}
	if (text !== undefined && text !== null) {
		e.textContent = String(text);
	}
	return e;
}

function clock(t) {
	if (!t) {
		return '';
	}
	const d = new Date(t);
	return isNaN(d.getTime()) ? String(t) : d.toLocaleTimeString([], { hour12: false });
}

async function getJSON(path) {
	const r = await fetch(path, { cache: 'no-store' });
	if (!r.ok) {
		throw new Error(path + ': HTTP ' + r.status);
	}
	return r.json();
}

// The first line: the verdict in words and colour, with the top finding's summary.
function drawVerdict(diag) {
	const verdict = String(diag.verdict || 'unknown');
	const top = (diag.findings && diag.findings[0]) || null;
	const summary = top ? top.summary : diag.summary;
	const banner = document.getElementById('verdict');
	banner.className = 'verdict verdict-' + (/^[a-z]+$/.test(verdict) ? verdict : 'unknown');
	document.getElementById('verdict-word').textContent = verdict.toUpperCase();
	// The summary names the hosts and since when ("... all 3 hosts since 02:13:05").
	document.getElementById('verdict-summary').textContent = summary ? '\u2014 ' + summary : '';
}

function drawFindings(diag) {
	const list = el('ol', 'findings');
	list.id = 'findings';
	for (const f of diag.findings || []) {
		const li = el('li', 'finding');
		li.appendChild(el('span', 'finding-verdict', f.verdict + (f.muted ? ' (muted)' : '')));
		li.appendChild(el('span', 'finding-summary', f.summary));
		const meta = [];
		if (f.hosts && f.hosts.length) {
			meta.push('hosts: ' + f.hosts.join(', '));
		}
		if (f.release) {
			meta.push('release ' + f.release);
		}
		if (f.since) {
			meta.push('since ' + clock(f.since));
		}
		li.appendChild(el('div', 'finding-meta', meta.join(' \u00b7 ')));
		const ev = el('ul', 'evidence');
		for (const e of f.evidence || []) {
			ev.appendChild(el('li', null, e));
		}
		li.appendChild(ev);
		list.appendChild(li);
	}
	if (!list.firstChild) {
		list.appendChild(el('li', 'none', 'no finding'));
	}
	document.getElementById('findings').replaceWith(list);
}

// The probe names of every host, sorted: the grid's columns.
function probeNames(hosts) {
	const names = new Set();
	for (const h of hosts) {
		for (const p of h.probes || []) {
			names.add(p.name);
		}
	}
	return Array.from(names).sort();
}

function cellTitle(host, p) {
	let t = p.name + ' on ' + host.host + ': ' + p.status;
	if (p.failure && p.failure !== 'none') {
		t += ', ' + p.failure;
	}
	if (typeof p.latency_ms === 'number') {
		t += ', ' + p.latency_ms.toFixed(1) + ' ms';
	}
	if (p.detail) {
		t += '\n' + p.detail;
	}
	if (host.stale) {
		t = 'last known (the host is stale): ' + t;
	}
	return t;
}

// setIf(e, name, value): sets attribute name only when it differs (an unchanged cell is not
// touched, so its tooltip and focus stay); null removes it.
function setIf(e, name, value) {
	if (value === null) {
		if (e.hasAttribute(name)) {
			e.removeAttribute(name);
		}
	} else if (e.getAttribute(name) !== value) {
		e.setAttribute(name, value);
	}
}

// Fills the cell of probe name on host (p its result, undefined when that host does not run
// it), writing only what changed.
function fillCell(td, host, name, p) {
	let cls = 'cell status-absent';
	let text = '\u2013';
	let title = name + ': not probed on this host';
	if (p) {
		const status = MARKS[p.status] !== undefined ? p.status : 'unknown';
		cls = 'cell status-' + status;
		text = MARKS[status];
		title = cellTitle(host, p);
	}
	setIf(td, 'class', cls);
	if (td.textContent !== text) {
		td.textContent = text;
	}
	setIf(td, 'title', title);
	setIf(td, 'data-probe', p ? p.name : null);
	setIf(td, 'aria-label', p ? title : null);
	setIf(td, 'tabindex', p ? '0' : null); // the title shows on keyboard focus too
}

function probesByName(host) {
	return new Map((host.probes || []).map((p) => [p.name, p]));
}

// A table element with its ARIA role: the grid's rows are laid out by CSS grid (so rows out of
// sight can skip layout, app.css), which takes the table semantics away unless stated.
function cellEl(tag, role, className, text) {
	const e = el(tag, className, text);
	e.setAttribute('role', role);
	return e;
}

function hostRow(host, columns) {
	const tr = cellEl('tr', 'row', host.stale ? 'host stale' : 'host');
	tr.setAttribute('data-host', host.host);
	const th = cellEl('th', 'rowheader', 'host-name');
	th.scope = 'row';
	th.appendChild(el('span', 'name', host.host));
	th.appendChild(el('span', 'host-release', host.release ? 'release ' + host.release : 'no release'));
	if (host.stale) {
		th.appendChild(el('span', 'stale-mark', 'STALE since ' + clock(host.last_seen)));
	}
	tr.appendChild(th);
	const probes = probesByName(host);
	for (const name of columns) {
		const td = cellEl('td', 'cell');
		fillCell(td, host, name, probes.get(name));
		tr.appendChild(td);
	}
	return tr;
}

function releaseTable(release, hosts, columns, grouped) {
	const table = cellEl('table', 'table', 'grid');
	// Column widths from the names (CSSOM, which the CSP allows; no style attribute): one
	// template for every row of the table, so the rows' grids line up.
	const width = (n, min, max, k) => (Math.min(Math.max(min, n), max) * k + 2).toFixed(1) + 'ch';
	const hostW = width(hosts.reduce((m, h) =>
	    Math.max(m, (h.host + ' release ' + (h.release || '')).length), 0), 16, 48, 0.9);
	table.style.setProperty('--columns', hostW + ' ' +
	    columns.map((n) => width(String(n).length, 3, 12, 1.05)).join(' '));
	if (grouped) {
		table.appendChild(el('caption', null,
		    'release ' + (release || '(none)') + ' \u2014 ' + hosts.length +
		        (hosts.length === 1 ? ' host' : ' hosts')));
	}
	const head = cellEl('tr', 'row');
	head.appendChild(cellEl('th', 'columnheader', null, 'host'));
	for (const name of columns) {
		const th = cellEl('th', 'columnheader', 'probe-name', name);
		th.scope = 'col';
		head.appendChild(th);
	}
	table.appendChild(cellEl('thead', 'rowgroup')).appendChild(head);
	const body = cellEl('tbody', 'rowgroup');
	const rows = document.createDocumentFragment();
	for (const h of hosts) {
		rows.appendChild(hostRow(h, columns));
	}
	body.appendChild(rows);
	table.appendChild(body);
	return table;
}

// When a group's release last arrived on one of its hosts (ms; 0 when unknown).
function deployedAt(hosts) {
	let latest = 0;
	for (const h of hosts) {
		const t = h.release_since ? Date.parse(h.release_since) : NaN;
		if (!isNaN(t) && t > latest) {
			latest = t;
		}
	}
	return latest;
}

// The hosts grouped by release, one table each when they run several (the canary stands
// out): smallest group first, then the most recently deployed.
function releaseGroups(hosts) {
	const groups = new Map();
	for (const h of hosts) {
		const r = h.release || '';
		if (!groups.has(r)) {
			groups.set(r, []);
		}
		groups.get(r).push(h);
	}
	return Array.from(groups.entries()).sort((a, b) =>
	    a[1].length - b[1].length || deployedAt(b[1]) - deployedAt(a[1]));
}

let fleetLayout = ''; // the grid's rows and columns as last built

// Everything of the grid but its cells: when only cells changed, only they are updated.
function fleetLayoutKey(ordered, columns) {
	return JSON.stringify([columns, ordered.map(([release, members]) => [release,
		members.map((h) => [h.host, h.stale, h.stale ? h.last_seen : ''])])]);
}

// Updates the cells of the grid in place (same hosts, probes and groups as built).
function updateCells(hosts, columns) {
	const byName = new Map(hosts.map((h) => [h.host, h]));
	for (const tr of document.getElementById('fleet').querySelectorAll('tr.host')) {
		const host = byName.get(tr.getAttribute('data-host'));
		const probes = probesByName(host);
		const cells = tr.querySelectorAll('td.cell');
		columns.forEach((name, i) => fillCell(cells[i], host, name, probes.get(name)));
	}
}

// The grid hosts x probes: built when its hosts, probes or groups change, else only the cells
// that changed are updated (hover, focus and scroll stay).
function drawFleet(status) {
	const hosts = status.hosts || [];
	const columns = probeNames(hosts);
	const ordered = releaseGroups(hosts);
	const layout = fleetLayoutKey(ordered, columns);
	if (layout === fleetLayout) {
		updateCells(hosts, columns);
		return;
	}
	const fleet = el('div');
	fleet.id = 'fleet';
	for (const [release, members] of ordered) {
		fleet.appendChild(releaseTable(release, members, columns, ordered.length > 1));
	}
	if (!hosts.length) {
		fleet.appendChild(el('p', 'none', 'no host has reported yet'));
	}
	document.getElementById('fleet').replaceWith(fleet);
	fleetLayout = layout;
}

// ---- the last verification of each release -------------------------------------------------

const VERIFY_WORDS = {
	passed: '\u2713 passed',
	failed: '\u2717 failed',
	unverified: '? could not verify',
};

// The status reply's verifications (one per release, the collector keeps a bounded number),
// newest first: release, result in words and colour, kind, when, and the reasons.
function drawVerifications(status) {
	const list = (status.verifications || []).slice().sort((a, b) =>
	    (Date.parse(b.at) || 0) - (Date.parse(a.at) || 0));
	const box = el('div');
	box.id = 'verifications';
	if (!list.length) {
		box.appendChild(el('p', 'none',
		    'no release verified yet (faultline verify, /api/v1/verify, or after a release by itself)'));
		document.getElementById('verifications').replaceWith(box);
		return;
	}
	const table = el('table', 'verif');
	const head = el('tr');
	for (const h of ['release', 'result', 'check', 'when', 'reasons']) {
		const th = el('th', null, h);
		th.scope = 'col';
		head.appendChild(th);
	}
	table.appendChild(el('thead')).appendChild(head);
	const body = el('tbody');
	for (const v of list) {
		const result = VERIFY_WORDS[v.result] !== undefined ? v.result : 'unverified';
		const tr = el('tr', 'verification');
		tr.setAttribute('data-release', v.release);
		const th = el('th', 'verif-release', v.release);
		th.scope = 'row';
		tr.appendChild(th);
		const td = el('td', 'verif-result verif-' + result, VERIFY_WORDS[result]);
		td.setAttribute('data-result', result);
		tr.appendChild(td);
		tr.appendChild(el('td', null, (v.kind || 'full') + (v.automatic ? ', automatic' : '')));
		tr.appendChild(el('td', null, clock(v.at)));
		const reasons = el('ul', 'reasons');
		for (const r of String(v.detail || '').split('; ')) {
			if (r) {
				reasons.appendChild(el('li', null, r));
			}
		}
		tr.appendChild(el('td')).appendChild(reasons);
		body.appendChild(tr);
	}
	table.appendChild(body);
	box.appendChild(table);
	document.getElementById('verifications').replaceWith(box);
}

// ---- the timeline of the last hour ---------------------------------------------------------

const SVG_NS = 'http://www.w3.org/2000/svg';
const HOUR_MS = 3600 * 1000;
const HISTORY_LIMIT = 1000;   // events per request (the API's limit=): each poll is bounded
const TIMELINE_MAX = 5000;    // events the page keeps (the oldest go first)
const TIMELINE_LANES = 40;    // host lanes drawn (the most recently active hosts)
const FLEET_LANE = '';        // verdict and verification events carry no host

// What the page holds of the history: the events of the last hour, oldest first.
const timeline = {
	events: [],
	keys: new Set(), // one per event: the same event read twice is kept once
	newest: '',      // the newest event's "at": the next request's since=
	version: 0,      // bumped when events change; the SVG is redrawn only then, or when the
	drawn: '',       // hour's window moves on by a minute
	cut: '',         // what a reply cut at the limit left out, said under the timeline
	cutAt: 0,        // until when (ms): the note goes when that leaves the hour
	error: '',       // why the last request failed, said under the timeline
	hosts: [],       // the host names of the last status reply (their lanes)
	ids: 0,          // the last id given to an event
};

function eventKey(e) {
	return [e.at, e.kind, e.host, e.probe, e.from, e.to, e.detail].join('\u0000');
}

// The history request: the last hour the first time, then everything since the newest event
// held (since= is inclusive: the newest is read again, and dropped as already known).
function historyPath() {
	const since = timeline.newest || '1h';
	return '/api/v1/history?limit=' + HISTORY_LIMIT + '&since=' + encodeURIComponent(since);
}

// Adds the events of one history reply; notes when the reply was cut at the limit (the
// collector returns the newest ones then, so the gap is just after since).
function mergeHistory(reply, sinceMs) {
	const events = reply.events || [];
	let added = 0;
	for (const e of events) {
		const k = eventKey(e);
		if (!timeline.keys.has(k)) {
			timeline.keys.add(k);
			e.atMs = Date.parse(e.at) || 0; // parsed once: events are sorted and placed by it
			e.id = String(++timeline.ids);  // names its mark (data-key), for the focus
			timeline.events.push(e);
			added++;
		}
	}
	if (events.length >= HISTORY_LIMIT) {
		timeline.cut = 'more than ' + HISTORY_LIMIT + ' events at once: those between ' +
		    clock(sinceMs ? new Date(sinceMs) : new Date(Date.now() - HOUR_MS)) + ' and ' +
		    clock(events[0].at) + ' are not drawn (faultline history has them)';
		timeline.cutAt = Date.parse(events[0].at) || 0;
	}
	if (added) {
		timeline.events.sort((a, b) => a.atMs - b.atMs); // stable: same-time events keep order
		timeline.newest = timeline.events[timeline.events.length - 1].at;
		timeline.version++;
	}
}

// Drops what is older than the hour, and the oldest beyond TIMELINE_MAX.
function pruneHistory(nowMs) {
	const from = nowMs - HOUR_MS;
	let cut = 0;
	while (cut < timeline.events.length &&
	    (timeline.events[cut].atMs < from || timeline.events.length - cut > TIMELINE_MAX)) {
		cut++;
	}
	if (cut) {
		for (const e of timeline.events.slice(0, cut)) {
			timeline.keys.delete(eventKey(e));
		}
		timeline.events = timeline.events.slice(cut);
		timeline.version++;
	}
}

async function pollHistory() {
	const sinceMs = timeline.newest ? Date.parse(timeline.newest) : 0;
	mergeHistory(await getJSON(historyPath()), sinceMs);
	timeline.error = '';
	pruneHistory(Date.now());
}

// How each event is marked: a class (its colour), a shape and a letter or sign, so colour is
// never the only signal; the title says it all in words.
function markOf(e) {
	switch (e.kind) {
	case 'status': {
		const to = MARKS[e.to] !== undefined ? e.to : 'unknown';
		const shapes = { ok: 'circle', warn: 'diamond', fail: 'square', unknown: 'circle' };
		return { cls: 'status-' + to, shape: shapes[to], text: MARKS[to] };
	}
	case 'verdict': {
		const v = /^[a-z]+$/.test(e.to) ? e.to : 'unknown';
		return { cls: 'verdict-' + v, shape: 'square',
			text: v === 'healthy' ? MARKS.ok : v.charAt(0).toUpperCase() };
	}
	case 'verification': {
		const r = VERIFY_WORDS[e.to] !== undefined ? e.to : 'unverified';
		const shapes = { passed: 'circle', failed: 'square', unverified: 'diamond' };
		return { cls: 'verif-' + r, shape: shapes[r], text: 'V' };
	}
	case 'release':
		return { cls: 'kind-release', shape: 'diamond', text: 'R' };
	case 'stale':
		return { cls: 'kind-stale', shape: 'square', text: 'S' };
	case 'back':
		return { cls: 'kind-back', shape: 'circle', text: 'B' };
	case 'forgotten':
		return { cls: 'kind-stale', shape: 'square', text: 'F' };
	case 'dns':
		return { cls: 'kind-dns', shape: 'diamond', text: 'D' };
	default:
		return { cls: 'kind-other', shape: 'circle', text: '?' };
	}
}

// The event in words, for the mark's <title> (hover and keyboard focus).
function eventTitle(e) {
	const at = clock(e.at);
	const detail = e.detail ? '\n' + e.detail : '';
	switch (e.kind) {
	case 'status':
		return at + ' ' + e.host + ': ' + e.probe + ' ' + (e.from || 'new') + ' \u2192 ' + e.to +
		    (e.failure && e.failure !== 'none' ? ' (' + e.failure + ')' : '') + detail;
	case 'verdict':
		return at + ' verdict: ' + (e.from || 'none') + ' \u2192 ' + e.to + detail;
	case 'verification':
		return at + ' verification of release ' + e.from + ': ' +
		    (VERIFY_WORDS[e.to] || e.to) + detail;
	case 'release':
		return at + ' ' + e.host + ': release ' + (e.from || 'none') + ' \u2192 ' + e.to;
	case 'stale':
		return at + ' ' + e.host + ': stale (stopped reporting)';
	case 'back':
		return at + ' ' + e.host + ': reports again';
	default:
		return at + ' ' + e.host + ': ' + e.kind + ' ' + e.from + ' \u2192 ' + e.to + detail;
	}
}

// svg(tag, attrs, text): a new SVG element; text (optional) is set as text.
function svg(tag, attrs, text) {
	const e = document.createElementNS(SVG_NS, tag);
	for (const k of Object.keys(attrs || {})) {
		e.setAttribute(k, String(attrs[k]));
	}
	if (text !== undefined && text !== null) {
		e.textContent = String(text);
	}
	return e;
}

// The lanes: the fleet's first, then up to TIMELINE_LANES hosts by name, chosen among the
// hosts with events (the most recently active first) and then the hosts of the status reply.
function timelineLanes(events, hostNames) {
	const lastAt = new Map();
	for (const e of events) {
		if (e.host !== FLEET_LANE) {
			lastAt.set(e.host, e.atMs); // events are oldest first: the last one stays
		}
	}
	const active = Array.from(lastAt.keys()).sort((a, b) =>
	    lastAt.get(b) - lastAt.get(a));
	const chosen = new Set(active.slice(0, TIMELINE_LANES));
	for (const h of hostNames) {
		if (chosen.size >= TIMELINE_LANES) {
			break;
		}
		chosen.add(h);
	}
	const all = new Set(active.concat(hostNames));
	const hosts = Array.from(chosen).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
	return { lanes: [FLEET_LANE].concat(hosts), hidden: all.size - chosen.size };
}

function markShape(shape) {
	switch (shape) {
	case 'square':
		return svg('rect', { x: -7, y: -7, width: 14, height: 14, rx: 2 });
	case 'diamond':
		return svg('path', { d: 'M0,-8 L8,0 L0,8 L-8,0 Z' });
	default:
		return svg('circle', { r: 7 });
	}
}

// The time axis: a tick and an HH:MM label every 10 minutes, and "now" at the right end.
function timeAxis(g, x0, x1, fromMs, toMs, height) {
	const step = 10 * 60 * 1000;
	for (let t = Math.ceil(fromMs / step) * step; t <= toMs; t += step) {
		const x = x0 + (t - fromMs) / (toMs - fromMs) * (x1 - x0);
		g.appendChild(svg('line', { class: 'tick', x1: x, x2: x, y1: 16, y2: height }));
		if (x1 - x < 50) {
			continue; // too close to "now" for a label of its own
		}
		g.appendChild(svg('text', { class: 'tick-label', x: x, y: 12, 'text-anchor': 'middle' },
		    new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false })));
	}
	g.appendChild(svg('text', { class: 'tick-label', x: x1, y: 12, 'text-anchor': 'end' }, 'now'));
}

const LANE_H = 24;
const AXIS_H = 20;
const LABEL_W = 190;

// Draws the hour ending at the next whole minute (so the marks move once a minute, not at
// every poll), one lane per host and one for the fleet's verdict; keeps keyboard focus on
// the mark it was on.
function drawTimeline() {
	const box = document.getElementById('timeline');
	const width = Math.max(640, box.clientWidth || 0);
	const toMs = Math.ceil(Date.now() / 60000) * 60000;
	const fromMs = toMs - HOUR_MS;
	const inHour = timeline.events.filter((e) => e.atMs >= fromMs && e.atMs <= toMs);
	const { lanes, hidden } = timelineLanes(inHour, timeline.hosts);
	const notes = [timeline.error, timeline.cutAt >= fromMs ? timeline.cut : ''].filter((n) => n);
	if (hidden > 0) {
		notes.push(hidden + ' more hosts not drawn (only the ' + TIMELINE_LANES +
		    ' most recently active)');
	}
	const key = [timeline.version, toMs, width, lanes.join('\u0000'), notes.join('; ')].join('|');
	if (key === timeline.drawn) {
		return;
	}
	const focused = document.activeElement && document.activeElement.getAttribute &&
	    document.activeElement.getAttribute('data-key');
	const height = AXIS_H + lanes.length * LANE_H + 4;
	const x0 = LABEL_W;
	const x1 = width - 12;
	const root = svg('svg', { class: 'timeline', width: width, height: height,
		viewBox: '0 0 ' + width + ' ' + height, role: 'group',
		'aria-label': 'events of the last hour, one lane per host and one for the fleet verdict' });
	const laneOf = new Map();
	lanes.forEach((name, i) => {
		const y = AXIS_H + i * LANE_H;
		laneOf.set(name, y + LANE_H / 2);
		const g = svg('g', { class: name === FLEET_LANE ? 'lane lane-fleet' : 'lane' });
		g.setAttribute('data-lane', name === FLEET_LANE ? '(fleet)' : name);
		g.appendChild(svg('rect', { class: 'lane-bg', x: 0, y: y, width: width, height: LANE_H }));
		const label = name === FLEET_LANE ? 'fleet verdict' : name;
		const shown = label.length > 28 ? label.slice(0, 27) + '\u2026' : label;
		const text = svg('text', { class: 'lane-label', x: 4, y: y + LANE_H / 2 + 4 }, shown);
		text.appendChild(svg('title', null, label));
		g.appendChild(text);
		root.appendChild(g);
	});
	timeAxis(root, x0, x1, fromMs, toMs, height);
	for (const e of inHour) {
		const y = laneOf.get(e.host);
		if (y === undefined) {
			continue; // a host beyond TIMELINE_LANES
		}
		const x = x0 + (e.atMs - fromMs) / HOUR_MS * (x1 - x0);
		const m = markOf(e);
		const g = svg('g', { class: 'mark ' + m.cls, transform: 'translate(' + x.toFixed(1) + ',' + y + ')',
			tabindex: 0, 'data-kind': e.kind });
		g.setAttribute('data-key', e.id);
		g.setAttribute('data-lane', e.host === FLEET_LANE ? '(fleet)' : e.host);
		g.appendChild(svg('title', null, eventTitle(e)));
		g.appendChild(markShape(m.shape));
		g.appendChild(svg('text', { class: 'mark-text', y: 4, 'text-anchor': 'middle' }, m.text));
		root.appendChild(g);
	}
	document.getElementById('timeline-svg').replaceChildren(root);
	document.getElementById('timeline-note').textContent = notes.join('; ');
	if (focused) {
		for (const m of root.querySelectorAll('g.mark')) {
			if (m.getAttribute('data-key') === focused) {
				m.focus();
				break;
			}
		}
	}
	timeline.drawn = key;
}

function setUpdated(text, offline) {
	const p = document.getElementById('updated');
	p.textContent = text;
	p.className = offline ? 'updated offline' : 'updated';
}

// Marks when the first grid is in the document ('fl-grid-drawn') and when the browser has
// rendered it ('fl-grid-painted': the frame after it; bench/web/page_load.sh reads both).
function markFirstGrid() {
	if (gridMarked) {
		return;
	}
	gridMarked = true;
	performance.mark('fl-grid-drawn');
	requestAnimationFrame(() => setTimeout(() => performance.mark('fl-grid-painted'), 0));
}

// Draws status and diagnose: the verdict and findings when they changed, the grid's changed
// cells (all of it when its hosts, probes or groups changed), the verifications when changed.
function drawAnswers(status, diag) {
	const x = window.scrollX;
	const y = window.scrollY;
	const d = JSON.stringify(diag);
	if (d !== drawnDiag) {
		drawVerdict(diag);
		drawFindings(diag);
		drawnDiag = d;
	}
	drawFleet(status);
	const v = JSON.stringify(status.verifications || []);
	if (v !== drawnVerifications) {
		drawVerifications(status);
		drawnVerifications = v;
	}
	window.scrollTo(x, y);
}

async function poll() {
	try {
		const [status, diag] = await Promise.all([getJSON('/api/v1/status'),
		    getJSON('/api/v1/diagnose')]);
		drawAnswers(status, diag);
		markFirstGrid();
		timeline.hosts = (status.hosts || []).map((h) => h.host);
		setUpdated('updated ' + clock(new Date()) + ' \u00b7 every ' + POLL_MS / 1000 + ' s', false);
	} catch (e) {
		setUpdated('cannot reach the collector (' + e.message + '): showing the last answer', true);
	}
	// The history after the grid, so the first grid does not wait for the hour's events.
	try {
		await pollHistory();
	} catch (e) {
		timeline.error = 'cannot read the history (' + e.message + '): showing the last events';
	}
	const x = window.scrollX;
	const y = window.scrollY;
	drawTimeline();
	window.scrollTo(x, y);
	setTimeout(poll, POLL_MS);
}

poll();
