% rebase('layout', main_class='page')
<div class="page-head">
  <h1>{{_("Report schedules")}}</h1>
  <p class="muted">{{_("Each period's file is written half an hour after the period ends, once; after the box was off, the periods it missed are written when it starts again.")}}</p>
</div>
% include('report_nav', here='schedules')
% if saved:
<p class="notice" role="status">{{_("Schedule saved.")}}</p>
% end
% for s in schedules:
%   mine = problems.get(s.name, {})
%   typed = form.get(s.name)
%   chosen = typed['reports'] if typed else list(s.reports)
<section class="panel" aria-labelledby="schedule-{{s.name}}">
  <h2 id="schedule-{{s.name}}">{{_(schedule_names[s.name])}}</h2>
  <form method="post" action="/reports/schedules/{{s.name}}" class="stack schedule-form" id="schedule-form-{{s.name}}">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="version" value="{{s.version}}">
    % if mine:
    <div class="form-error" role="alert"><ul>
      % for message in mine.values():
      <li>{{message}}</li>
      % end
    </ul></div>
    % end
    <label class="check"><input type="checkbox" name="enabled" value="1" {{!'checked' if (typed['enabled'] if typed else s.enabled) else ''}}> {{_("Write this report")}}</label>
    <fieldset class="field">
      <legend>{{_("Reports in the file")}}</legend>
      % for name, report in reports.items():
      <label class="check"><input type="checkbox" name="reports" value="{{name}}" {{!'checked' if name in chosen else ''}}> {{_(report.title)}}</label>
      % end
    </fieldset>
    <label class="field"><span>{{_("Format")}}</span>
      <select name="format">
        % for value, label in formats.items():
        <option value="{{value}}" {{!'selected' if value == (typed['format'] if typed else s.format) else ''}}>{{_(label)}}</option>
        % end
      </select></label>
    <label class="field"><span>{{_("Files kept")}}</span>
      <input type="number" name="keep" min="1" max="{{max_keep[s.name]}}" required value="{{typed['keep'] if typed else s.keep}}"
             class="{{'invalid' if 'keep' in mine else ''}}">
      <span class="hint">{{_("Older files are deleted, up to %(max)d kept.") % {'max': max_keep[s.name]} }}</span></label>
    <label class="field"><span>{{_("Language of the file")}}</span>
      <select name="language">
        % for value, label in languages.items():
        <option value="{{value}}" {{!'selected' if value == (typed['language'] if typed else s.language) else ''}}>{{label}}</option>
        % end
      </select></label>
    <label class="field"><span>{{_("E-mail it to")}}</span>
      <textarea name="recipients" rows="3" class="{{'invalid' if 'recipients' in mine else ''}}">{{typed['recipients'] if typed else "\n".join(s.recipients)}}</textarea>
      <span class="hint">{{_("One address a line; none: the file is only kept on the box.")}}
        <a href="/mail">{{_("Mail goes out through the box's e-mail settings and outbox.")}}</a></span></label>
    <p class="muted">
      % if s.last_period:
      {{_("Last written: %(period)s.") % {'period': s.last_period} }}
      % end
      % if s.updated_at:
      {{_("Changed by %(user)s, %(when)s.") % {'user': s.updated_by, 'when': fmt.when(s.updated_at)} }}
      % end
    </p>
    <div><button class="btn btn-primary" type="submit">{{_("Save")}}</button></div>
  </form>
</section>
% end
