% rebase('layout', main_class='page')
<div class="page-head">
  % if item_id == '':
  <h1>{{_(part.title)}}</h1>
  % else:
  <h1>{{_(part.title)}}: {{item_id or _("new")}}</h1>
  <p class="crumbs"><a href="/config/{{part.name}}">{{_(part.title)}}</a></p>
  % end
</div>
% include('config_nav')
% if get('notice'):
<p class="notice" role="status">{{notice}}</p>
% end
% if error:
<div class="form-error" role="alert">{{error}}</div>
% end
<form method="post" action="/config/{{part.name}}{{'/' + item_id if item_id else ''}}" class="stack card" id="config-form">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <input type="hidden" name="version" value="{{version}}">
  % for f in part.fields:
  <label class="field">
    <span>{{_(f.label)}}</span>
    % bad = 'invalid' if f.key in problems else ''
    % if f.kind in ('choice', 'bool'):
    <select name="{{f.key}}" class="{{bad}}">
      <option value="">{{_("(default)")}}</option>
      % for choice in f.choices:
      <option value="{{choice}}" {{'selected' if values.get(f.key) == choice else ''}}>{{choice}}</option>
      % end
    </select>
    % else:
    <input name="{{f.key}}" value="{{values.get(f.key, '')}}" class="{{bad}}" maxlength="400"
           placeholder="{{_('default')}}"
           {{'inputmode=decimal' if f.kind in ('int', 'float') else ''}}>
    % end
    % if f.key in problems:
    <span class="field-error" role="alert">{{problems[f.key]}}</span>
    % end
    % if f.hint:
    <span class="hint">{{_(f.hint)}}</span>
    % end
  </label>
  % end
  <button class="btn btn-primary" type="submit">{{_("Save and apply")}}</button>
</form>
