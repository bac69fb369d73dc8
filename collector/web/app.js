// app.js - the incident page: polls /api/v1/status and /api/v1/diagnose every 2 s and draws
// the verdict, the findings and the fleet grid. Names come from agents and may be hostile:
// every text goes in through textContent or setAttribute, never as HTML.
'use strict';

const POLL_MS = 2000;
const MARKS = { ok: '\u2713', warn: '!', fail: '\u2717', unknown: '?' };

let lastDrawn = ''; // the answers last drawn: nothing is redrawn while they do not change

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

function probeCell(host, name) {
	const p = (host.probes || []).find((x) => x.name === name);
	if (!p) {
		const td = el('td', 'cell status-absent', '\u2013');
		td.title = name + ': not probed on this host';
		return td;
	}
	const status = MARKS[p.status] !== undefined ? p.status : 'unknown';
	const td = el('td', 'cell status-' + status, MARKS[status]);
	td.setAttribute('data-probe', p.name);
	td.setAttribute('data-failure', p.failure || '');
	td.title = cellTitle(host, p);
	td.setAttribute('aria-label', td.title);
	td.tabIndex = 0; // the title shows on focus too
	return td;
}

function hostRow(host, columns) {
	const tr = el('tr', host.stale ? 'host stale' : 'host');
	tr.setAttribute('data-host', host.host);
	const th = el('th', 'host-name');
	th.scope = 'row';
	th.appendChild(el('span', 'name', host.host));
	th.appendChild(el('span', 'host-release', host.release ? 'release ' + host.release : 'no release'));
	if (host.stale) {
		th.appendChild(el('span', 'stale-mark', 'STALE since ' + clock(host.last_seen)));
	}
	tr.appendChild(th);
	for (const name of columns) {
		tr.appendChild(probeCell(host, name));
	}
	return tr;
}

function releaseTable(release, hosts, columns, grouped) {
	const table = el('table', 'grid');
	if (grouped) {
		table.appendChild(el('caption', null,
		    'release ' + (release || '(none)') + ' \u2014 ' + hosts.length +
		        (hosts.length === 1 ? ' host' : ' hosts')));
	}
	const head = el('tr');
	head.appendChild(el('th', null, 'host'));
	for (const name of columns) {
		const th = el('th', 'probe-name', name);
		th.scope = 'col';
		head.appendChild(th);
	}
	table.appendChild(el('thead')).appendChild(head);
	const body = el('tbody');
	for (const h of hosts) {
		body.appendChild(hostRow(h, columns));
	}
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

// The grid hosts x probes, one table per release when the hosts run several (the canary
// stands out): smallest group first, then the most recently deployed.
function drawFleet(status) {
	const hosts = status.hosts || [];
	const columns = probeNames(hosts);
	const groups = new Map();
	for (const h of hosts) {
		const r = h.release || '';
		if (!groups.has(r)) {
			groups.set(r, []);
		}
		groups.get(r).push(h);
	}
	const fleet = el('div');
	fleet.id = 'fleet';
	const grouped = groups.size > 1;
	const ordered = Array.from(groups.entries()).sort((a, b) =>
	    a[1].length - b[1].length || deployedAt(b[1]) - deployedAt(a[1]));
	for (const [release, members] of ordered) {
		fleet.appendChild(releaseTable(release, members, columns, grouped));
	}
	if (!hosts.length) {
		fleet.appendChild(el('p', 'none', 'no host has reported yet'));
	}
	document.getElementById('fleet').replaceWith(fleet);
}

// What the grid shows apart from latencies and ages, which change at every report.
function shape(hosts) {
	return hosts.map((h) => [h.host, h.release, h.stale,
		(h.probes || []).map((p) => [p.name, p.status, p.failure, p.detail])]);
}

// Updates the cells' titles (their latency) without redrawing them.
function refreshTitles(hosts) {
	const byName = new Map(hosts.map((h) => [h.host, h]));
	for (const tr of document.querySelectorAll('#fleet tr.host')) {
		const host = byName.get(tr.getAttribute('data-host'));
		for (const td of tr.querySelectorAll('td[data-probe]')) {
			const p = host && (host.probes || []).find((x) => x.name === td.getAttribute('data-probe'));
			if (p) {
				td.title = cellTitle(host, p);
				td.setAttribute('aria-label', td.title);
			}
		}
	}
}

function setUpdated(text, offline) {
	const p = document.getElementById('updated');
	p.textContent = text;
	p.className = offline ? 'updated offline' : 'updated';
}

async function poll() {
	try {
		const [status, diag] = await Promise.all([getJSON('/api/v1/status'),
		    getJSON('/api/v1/diagnose')]);
		const drawn = JSON.stringify([diag, shape(status.hosts || [])]);
		if (drawn === lastDrawn) {
			refreshTitles(status.hosts || []); // latencies only: focus and hover stay
		} else {
			const x = window.scrollX;
			const y = window.scrollY;
			drawVerdict(diag);
			drawFindings(diag);
			drawFleet(status);
			window.scrollTo(x, y);
			lastDrawn = drawn;
		}
		setUpdated('updated ' + clock(new Date()) + ' \u00b7 every ' + POLL_MS / 1000 + ' s', false);
	} catch (e) {
		setUpdated('cannot reach the collector (' + e.message + '): showing the last answer', true);
	} finally {
		setTimeout(poll, POLL_MS);
	}
}

poll();
