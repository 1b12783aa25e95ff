% rebase('layout', main_class='page page-center')
<section class="card auth-card">
  <h1>{{_("Sign in")}}</h1>
  % if notice:
  <p class="notice" role="status">{{notice}}</p>
  % end
  % if error:
  <p class="form-error" role="alert">{{error}}</p>
  % end
  <form method="post" action="/login" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="next" value="{{next}}">
    <label class="field">
      <span>{{_("Username")}}</span>
      <input name="username" value="{{username}}" autocomplete="username" autocapitalize="none"
             spellcheck="false" required {{!'' if username else 'autofocus'}}>
    </label>
    <label class="field">
      <span>{{_("Password")}}</span>
      <input type="password" name="password" autocomplete="current-password" required {{!'autofocus' if username else ''}}>
    </label>
    <button class="btn btn-primary btn-block" type="submit">{{_("Sign in")}}</button>
  </form>
  % from urllib.parse import urlencode
  % include('language_switch', switch_next='/login?' + urlencode({'next': next}) if next != '/' else '/login')
</section>
