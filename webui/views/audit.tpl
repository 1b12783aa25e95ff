% rebase('layout', main_class='page page-wide')
% def audit_url(**changes):
%   query = f.query_string(**changes)
%   return '/audit?' + query if query else '/audit'
% end
% def select(name, current, values, blank):
  <select name="{{name}}">
    <option value="">{{blank}}</option>
    % if current and current not in values:
    <option value="{{current}}" selected>{{current}}</option>
    % end
    % for value in values:
    <option value="{{value}}" {{!'selected' if value == current else ''}}>{{value}}</option>
    % end
  </select>
% end
<div class="page-head">
  <h1>{{_("Audit log")}}</h1>
  <p class="crumbs">{{_("Every change to users, roles and the box's configuration: who made it, when, from which address, and what changed. Head office keeps a copy.")}}</p>
  % if not problems:
  <p class="muted" id="audit-count">{{ngettext("%(n)d entry", "%(n)d entries", total) % {"n": total} }}</p>
  % end
</div>

<form method="get" action="/audit" class="filters card">
  <label class="field field-sm"><span>{{_("User")}}</span>
    % select('user', form.get('user', ''), choices['users'], _("Anyone"))
  </label>
  <label class="field field-sm"><span>{{_("Action")}}</span>
    % families = sorted({a.split('.')[0] for a in choices['actions']} - set(choices['actions']))
    % select('action', form.get('action', ''), families + choices['actions'], _("Any"))
  </label>
  <label class="field field-sm"><span>{{_("From")}}</span>
    <input type="date" name="from" value="{{form.get('from', '')}}" class="{{'invalid' if 'from' in problems else ''}}"></label>
  <label class="field field-sm"><span>{{_("To")}}</span>
    <input type="date" name="to" value="{{form.get('to', '')}}" class="{{'invalid' if 'to' in problems else ''}}"></label>
  <div class="filter-buttons">
    <button class="btn btn-primary" type="submit">{{_("Apply")}}</button>
    <a class="btn btn-ghost" href="/audit">{{_("Clear")}}</a>
  </div>
</form>

% if problems:
<div class="form-error" role="alert">
  <strong>{{_("Fix the filters to see the log:")}}</strong>
  <ul>
    % for name, message in problems.items():
    <li>{{name}}: {{message}}</li>
    % end
  </ul>
</div>
% else:
<section class="panel">
  <div class="table-wrap">
    <table class="table" id="audit">
      <thead><tr><th>{{_("When")}}</th><th>{{_("User")}}</th><th>{{pgettext("address", "From")}}</th><th>{{_("Action")}}</th>
        <th>{{_("Target")}}</th><th>{{_("What changed")}}</th></tr></thead>
      <tbody>
        % for e in entries:
        <tr data-key="{{e['id']}}">
          <td class="nowrap">{{fmt.when(e['at'])}}</td>
          <td>{{e['username'] or fmt.NONE}}</td>
          <td class="mono">{{e['address']}}</td>
          <td class="mono">{{e['action']}}</td>
          <td>{{e['target'] or fmt.NONE}}</td>
          <td>
            % for key, value in fmt.details(e['detail']):
            <span class="kv"><span class="k">{{key}}</span> {{value}}</span>
            % end
          </td>
        </tr>
        % end
        % if not entries:
        <tr class="empty"><td colspan="6">{{_("No entries match these filters.")}}</td></tr>
        % end
      </tbody>
    </table>
  </div>
  % if pages > 1:
  <nav class="pager" aria-label="{{_("Pages")}}">
    % if f.page > 1:
    <a class="btn btn-ghost" href="{{audit_url(page=f.page - 1)}}" rel="prev">‹ {{_("Previous")}}</a>
    % else:
    <span class="btn btn-ghost disabled">‹ {{_("Previous")}}</span>
    % end
    <span class="muted">{{_("Page %(page)d of %(pages)d") % {"page": f.page, "pages": pages} }}</span>
    % if f.page < pages:
    <a class="btn btn-ghost" href="{{audit_url(page=f.page + 1)}}" rel="next">{{_("Next")}} ›</a>
    % else:
    <span class="btn btn-ghost disabled">{{_("Next")}} ›</span>
    % end
  </nav>
  % end
</section>
% end
