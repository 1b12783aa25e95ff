<form method="post" action="/language" class="language-switch">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <input type="hidden" name="next" value="{{switch_next}}">
  <span class="muted">{{_("Language")}}</span>
  % for code, name in languages.items():
  <button class="btn btn-sm {{'btn-primary' if code == language else 'btn-ghost'}}" type="submit" name="language"
          value="{{code}}" lang="{{code}}" {{!'aria-pressed="true"' if code == language else ''}}>{{name}}</button>
  % end
</form>
