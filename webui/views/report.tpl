% rebase('layout', main_class='page page-wide')
% def options(current, pairs, blank):
  <option value="">{{blank}}</option>
  % values = [v for v, _l in pairs]
  % if current and current not in values:
  <option value="{{current}}" selected>{{current}}</option>
  % end
  % for value, label in pairs:
  <option value="{{value}}" {{!'selected' if value == current else ''}}>{{label}}</option>
  % end
% end
<div class="page-head">
  <h1>{{_("Reports")}}: {{_(report.title)}}</h1>
  <p class="muted">{{_("%(first)s to %(last)s, by %(group)s") % {'first': p.date_from.isoformat(), 'last': p.date_to.isoformat(), 'group': _(groups[p.group]).lower()} }}</p>
</div>

<nav class="subnav" aria-label="{{_("Reports")}}">
  % for r in reports:
  <a href="/reports/{{r.name}}?{{urlencode(p.query(page=1, table=''))}}" class="{{'active' if r.name == report.name else ''}}"
     {{!'aria-current="page"' if r.name == report.name else ''}}>{{_(r.title)}}</a>
  % end
</nav>

<form method="get" action="/reports/{{report.name}}" class="filters card" id="report-form">
  <label class="field field-sm"><span>{{_("From")}}</span>
    <input type="date" name="from" required value="{{form.get('from', p.date_from.isoformat())}}" class="{{'invalid' if 'from' in problems else ''}}"></label>
  <label class="field field-sm"><span>{{_("To")}}</span>
    <input type="date" name="to" required value="{{form.get('to', p.date_to.isoformat())}}" class="{{'invalid' if 'to' in problems else ''}}"></label>
  <label class="field field-sm"><span>{{_("Group by")}}</span>
    <select name="group" class="{{'invalid' if 'group' in problems else ''}}">
      % for value, label in groups.items():
      <option value="{{value}}" {{!'selected' if value == p.group else ''}}>{{_(label)}}</option>
      % end
    </select></label>
  <label class="field field-sm"><span>{{_("Queue")}}</span>
    <select name="queue">
      % options(p.queue, choices['queues'], _('All queues'))
    </select></label>
  % if manager:
  <label class="field field-sm"><span>{{_("Agent")}}</span>
    <select name="agent">
      % options(p.agent, choices['agents'], _('All agents'))
    </select></label>
  % end
  <label class="field field-sm"><span>{{_("Skill")}}</span>
    <select name="skill">
      % options(p.skill, choices['skills'], _('All skills'))
    </select></label>
  <label class="field field-sm"><span>{{_("Category")}}</span>
    <select name="category">
      % options(p.category, choices['categories'], _('All categories'))
    </select></label>
  <label class="field field-sm"><span>{{_("Short abandon (s)")}}</span>
    <input type="number" name="short_abandon" min="0" max="60" step="1" value="{{form.get('short_abandon', p.short_abandon)}}"
           class="{{'invalid' if 'short_abandon' in problems else ''}}"
           title="{{_("Callers who hang up within this many seconds of entering the queue are left out of service level and abandon rate.")}}"></label>
  <div class="filter-buttons">
    <button class="btn btn-primary" type="submit">{{_("Show")}}</button>
    % if not problems:
    <a class="btn btn-ghost" href="{{export_url(format='xlsx', page=1, table='')}}" download>{{_("Excel")}}</a>
    % end
  </div>
</form>

% if report.name == 'complaints' and manager:
<p class="muted">{{_("Keywords counted: %(words)s.") % {'words': ', '.join(keywords)} }} <a href="/reports/keywords">{{_("Change the keywords")}}</a></p>
% end
% if problems:
<div class="form-error" role="alert">
  <strong>{{_("Fix the form to see the report:")}}</strong>
  <ul>
    % for message in problems.values():
    <li>{{message}}</li>
    % end
  </ul>
</div>
% else:
<div id="report" data-api="{{api}}">
% for t in tables:
<section class="panel report-table" id="table-{{t.name}}" data-table="{{t.name}}">
  <h2>{{_(t.title)}}
    <a class="btn btn-ghost btn-sm" href="{{export_url(format='csv', table=t.name, page=1)}}" download>{{_("CSV")}}</a></h2>
  % if t.charts and t.rows:
  <div class="report-charts">
    % for i, chart in enumerate(t.charts):
    <figure class="report-chart"><canvas data-table="{{t.name}}" data-chart="{{i}}" role="img" aria-label="{{_(chart.title)}}"></canvas></figure>
    % end
  </div>
  % end
  <div class="table-wrap">
    <table class="table table-report">
      <thead><tr>
        % for n, c in enumerate(t.columns):
        <th class="{{'num' if c.kind not in ('text', 'date', 'datetime') else ''}}" scope="col"
            title="{{_(c.definition) if c.definition else ''}}">{{_(c.label)}}{{!'<sup>%d</sup>' % (n + 1) if c.definition else ''}}</th>
        % end
      </tr></thead>
      <tbody>
        % for row in t.rows:
        <tr>
          % for c, value in zip(t.columns, row):
          <td class="{{'num' if c.kind not in ('text', 'date', 'datetime') else 'nowrap' if c.kind != 'text' else ''}}">{{cell_text(c.kind, value)}}</td>
          % end
        </tr>
        % end
        % if not t.rows:
        <tr class="empty"><td colspan="{{len(t.columns)}}">{{_("No records in this range.")}}</td></tr>
        % end
      </tbody>
    </table>
  </div>
  % if t.total:
  <p class="muted report-count">{{ngettext("%(first)s–%(last)s of %(total)s row", "%(first)s–%(last)s of %(total)s rows", t.total) % {'first': fmt.number(min((p.page - 1) * p.per_page + 1, t.total)), 'last': fmt.number(min(p.page * p.per_page, t.total)), 'total': fmt.number(t.total)} }}</p>
  % end
  % if t.total is not None and t.total > p.per_page:
  % pages = (t.total + p.per_page - 1) // p.per_page
  <nav class="pager" aria-label="{{_("Pages")}}">
    % if p.page > 1:
    <a class="btn btn-ghost" href="/reports/{{report.name}}?{{urlencode(p.query(page=p.page - 1))}}" rel="prev">‹ {{_("Previous")}}</a>
    % end
    <span class="muted">{{_("Page %(page)s of %(pages)s") % {'page': fmt.number(p.page), 'pages': fmt.number(pages)} }}</span>
    % if p.page < pages:
    <a class="btn btn-ghost" href="/reports/{{report.name}}?{{urlencode(p.query(page=p.page + 1))}}" rel="next">{{_("Next")}} ›</a>
    % end
  </nav>
  % end
  % if t.note:
  <p class="muted">{{_(t.note)}}</p>
  % end
  <details class="report-definitions">
    <summary>{{_("Definitions")}}</summary>
    <ol>
      % for c in t.columns:
      % if c.definition:
      <li value="{{t.columns.index(c) + 1}}"><strong>{{_(c.label)}}</strong>: {{_(c.definition)}}</li>
      % end
      % end
    </ol>
    <p><a href="/reports/definitions#report-{{report.name}}">{{_("All definitions and how they are counted")}}</a></p>
  </details>
</section>
% end
</div>
% end
