% rebase('layout', main_class='page page-wide')
<div class="page-head">
  <h1>{{_("Quality form")}}</h1>
  <p class="muted">{{_("The criteria supervisors score recorded calls against. Each is scored from 0 to its maximum; its weight is its share of the call's score: 100 × the sum of weight × points ÷ maximum, over the sum of the weights. Evaluations already given keep the form they were given with.")}}</p>
</div>
% if saved:
<p class="notice" role="status">{{_("The quality form is saved; the next evaluation uses it.")}}</p>
% end
% if problems:
<div class="form-error" role="alert">
  <strong>{{_("Nothing was saved:")}}</strong>
  <ul>
    % for key, message in problems.items():
    <li><span class="mono">{{key}}</span>: {{message}}</li>
    % end
  </ul>
</div>
% end
<form method="post" action="/quality" class="panel" id="quality-form">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <input type="hidden" name="version" value="{{version}}">
  <input type="hidden" name="rows" value="{{len(rows)}}">
  <label class="field field-sm quality-pass"><span>{{_("Pass score (0-100)")}}</span>
    <input type="number" name="pass_score" min="0" max="100" step="any" value="{{pass_score}}" required
           class="{{'invalid' if 'quality.pass_score' in problems else ''}}"></label>
  <div class="table-wrap">
    <table class="table quality-rows">
      <thead><tr><th>{{_("Id")}}</th><th>{{_("Name (English)")}}</th><th>{{_("Name (Chinese)")}}</th>
        <th>{{_("What earns the points (English)")}}</th><th>{{_("What earns the points (Chinese)")}}</th>
        <th>{{_("Weight")}}</th><th>{{_("Maximum points")}}</th><th>{{_("Remove")}}</th></tr></thead>
      <tbody>
        % for i, row in enumerate(rows):
        % bad = lambda field: 'invalid' if any(k == f'row{i}.{field}' or k.startswith(f'row{i}.{field}.') or k == f'row{i}' for k in problems) else ''
        <tr>
          <td><input name="id_{{i}}" value="{{row['id']}}" maxlength="32" pattern="[a-z][a-z0-9_\-]{0,31}" class="narrow {{bad('id')}}"
                     aria-label="{{_("Id")}} {{i + 1}}"></td>
          <td><input name="name_en_{{i}}" value="{{row['name_en']}}" maxlength="80" class="{{bad('name')}}" aria-label="{{_("Name (English)")}} {{i + 1}}"></td>
          <td><input name="name_zh_{{i}}" value="{{row['name_zh']}}" maxlength="80" class="{{bad('name')}}" aria-label="{{_("Name (Chinese)")}} {{i + 1}}"></td>
          <td><input name="help_en_{{i}}" value="{{row['help_en']}}" maxlength="300" class="{{bad('help')}}" aria-label="{{_("What earns the points (English)")}} {{i + 1}}"></td>
          <td><input name="help_zh_{{i}}" value="{{row['help_zh']}}" maxlength="300" class="{{bad('help')}}" aria-label="{{_("What earns the points (Chinese)")}} {{i + 1}}"></td>
          <td><input name="weight_{{i}}" value="{{row['weight']}}" type="number" min="0.1" max="100" step="any" class="narrow {{bad('weight')}}" aria-label="{{_("Weight")}} {{i + 1}}"></td>
          <td><input name="max_points_{{i}}" value="{{row['max_points']}}" type="number" min="1" max="100" step="1" class="narrow {{bad('max_points')}}" aria-label="{{_("Maximum points")}} {{i + 1}}"></td>
          <td><input type="checkbox" name="remove_{{i}}" value="1" aria-label="{{_("Remove")}} {{i + 1}}"></td>
        </tr>
        % end
      </tbody>
    </table>
  </div>
  <p class="muted">{{_("Fill in an empty row to add a criterion; save to get more empty rows.")}}</p>
  <button class="btn btn-primary" type="submit">{{_("Save the form")}}</button>
</form>
