#!/usr/bin/env python3
"""page_dom.py - summarises a DOM dumped by `chromium --dump-dom` of the incident page as JSON,
for the browser tests' jq assertions (stdin: the HTML; stdout: one JSON object).

  verdict:  the banner's word (e.g. "DATABASE"), banner_class its class, summary its line
  cells:    [{"host", "probe", "status", "mark", "title"}] for every probed cell of the grid
  hosts:    [{"host", "text", "stale"}] the row headers' text, as the page shows it
  findings: the findings' text
  tables:   the captions of the grid's tables (one per release when they differ)
  lanes:    [{"lane", "label"}] the timeline's lanes ("(fleet)" for the verdict's), label as shown
  marks:    [{"lane", "kind", "class", "text", "title"}] the timeline's marks (text: the sign or
            letter drawn on the mark; title: its SVG <title>)
  timeline_note: the note under the timeline
  verifications: [{"release", "result", "text", "reasons": []}] the verifications table
  elements: the count of each tag name in the document (an injected <img> or <b> would show)
"""
import html.parser
import json
import sys


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack = []  # (tag, attrs) of the open elements
        self.elements = {}
        self.verdict = ""
        self.banner_class = ""
        self.summary = ""
        self.cells = []
        self.hosts = []
        self.findings = []
        self.row_host = None
        self.tables = []
        self.lanes = []
        self.marks = []
        self.timeline_note = ""
        self.verifications = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements[tag] = self.elements.get(tag, 0) + 1
        if a.get("id") == "verdict":
            self.banner_class = a.get("class", "")
        if tag == "tr" and "data-host" in a:
            self.row_host = a["data-host"]
            self.hosts.append({"host": a["data-host"], "text": "",
                               "stale": "stale" in a.get("class", "").split()})
        if tag == "td" and "data-probe" in a:
            status = [c[len("status-"):] for c in a.get("class", "").split() if c.startswith("status-")]
            self.cells.append({"host": self.row_host, "probe": a["data-probe"],
                               "status": status[0] if status else "", "mark": "",
                               "title": a.get("title", "")})
        if tag == "table" and "grid" in a.get("class", "").split():
            self.tables.append("")
        if tag == "li" and "finding" in a.get("class", "").split():
            self.findings.append("")
        classes = a.get("class", "").split()
        if tag == "g" and "lane" in classes:
            self.lanes.append({"lane": a.get("data-lane", ""), "label": ""})
        if tag == "g" and "mark" in classes:
            self.marks.append({"lane": a.get("data-lane", ""), "kind": a.get("data-kind", ""),
                               "class": a.get("class", ""), "text": "", "title": ""})
        if tag == "tr" and "verification" in classes:
            self.verifications.append({"release": a.get("data-release", ""), "result": "",
                                       "text": "", "reasons": []})
        if tag == "td" and "data-result" in a and self.verifications:
            self.verifications[-1]["result"] = a["data-result"]
        if tag == "li" and self.inside(**{"class": "reasons"}) and self.verifications:
            self.verifications[-1]["reasons"].append("")
        if tag not in ("meta", "link", "br", "img", "input"):
            self.stack.append((tag, a))

    def handle_endtag(self, tag):
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break

    def inside(self, **want):
        for _, a in self.stack:
            if all(a.get(k, "") == v or v in a.get(k, "").split() for k, v in want.items()):
                return True
        return False

    def handle_data(self, data):
        if self.inside(id="verdict-word"):
            self.verdict += data
        if self.inside(id="verdict-summary"):
            self.summary += data
        if self.stack and self.stack[-1][0] == "td" and "data-probe" in self.stack[-1][1]:
            self.cells[-1]["mark"] += data
        if self.inside(**{"class": "host-name"}) and self.hosts:
            self.hosts[-1]["text"] += data
        if self.stack and self.stack[-1][0] == "caption" and self.tables:
            self.tables[-1] += data
        if self.inside(**{"class": "finding"}) and self.findings:
            self.findings[-1] += data
        top = self.stack[-1] if self.stack else ("", {})
        if top[0] == "text" and "lane-label" in top[1].get("class", "").split() and self.lanes:
            self.lanes[-1]["label"] += data
        if self.inside(**{"class": "mark"}) and self.marks:
            if top[0] == "title":
                self.marks[-1]["title"] += data
            elif top[0] == "text":
                self.marks[-1]["text"] += data
        if self.inside(id="timeline-note"):
            self.timeline_note += data
        if self.inside(**{"class": "verif-result"}) and self.verifications:
            self.verifications[-1]["text"] += data
        if top[0] == "li" and self.inside(**{"class": "reasons"}) and self.verifications:
            self.verifications[-1]["reasons"][-1] += data


p = Page()
p.feed(sys.stdin.read())
json.dump({"verdict": p.verdict.strip(), "banner_class": p.banner_class, "summary": p.summary,
           "cells": p.cells, "hosts": p.hosts, "findings": p.findings, "tables": p.tables,
           "lanes": p.lanes, "marks": p.marks, "timeline_note": p.timeline_note,
           "verifications": p.verifications, "elements": p.elements},
          sys.stdout)
