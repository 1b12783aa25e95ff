% rebase('layout')
<div class="page-head">
  <h1>{{_("Complaint keywords")}}</h1>
  <p class="muted">{{_("The complaints report counts the tickets whose title, description or category holds each keyword, in Chinese or English. Letters are matched whatever their case or width.")}}</p>
</div>
<nav class="subnav" aria-label="{{_("Reports")}}">
  % for r in reports:
  <a href="/reports/{{r.name}}" class="{{'active' if r.name == 'complaints' else ''}}">{{_(r.title)}}</a>
  % end
</nav>
% if saved:
<p class="notice" role="status">{{_("Keywords saved.")}}</p>
% end
% if problems:
<div class="form-error" role="alert"><strong>{{problems['keywords']}}</strong></div>
% end
<section class="panel card">
  <form method="post" action="/reports/keywords" class="panel-body stack">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label class="field"><span>{{_("One keyword or phrase a line")}}</span>
      <textarea name="keywords" id="keywords" rows="12" {{'' if can_edit else 'readonly'}}
                class="{{'invalid' if problems else ''}}">{{'\n'.join(keywords)}}</textarea></label>
    % if can_edit:
    <button class="btn btn-primary" type="submit">{{_("Save")}}</button>
    % else:
    <p class="muted">{{_("Only an administrator changes the keywords.")}}</p>
    % end
  </form>
</section>
