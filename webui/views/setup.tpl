% rebase('layout', main_class='page page-center')
<section class="card auth-card">
  <h1>{{_("Set up this box")}}</h1>
  <p class="lede">{{_("Nobody can sign in yet, and there is no default account. Choose the administrator's username and password.")}}</p>
  <form method="post" action="/setup" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label class="field">
      <span>{{_("Administrator username")}}</span>
      <input name="username" value="{{username}}" autocomplete="username" autocapitalize="none"
             spellcheck="false" required maxlength="32" class="{{'invalid' if 'username' in problems else ''}}">
      % if 'username' in problems:
      <span class="field-error" role="alert">{{problems['username']}}</span>
      % end
    </label>
    <label class="field">
      <span>{{_("Password")}}</span>
      <input type="password" name="password" autocomplete="new-password" required
             class="{{'invalid' if 'password' in problems else ''}}">
      % if 'password' in problems:
      <span class="field-error" role="alert">{{problems['password']}}</span>
      % end
      <span class="hint">{{_("At least %(min)d characters. A few unrelated words are easy to remember and hard to guess.") % {'min': password_min} }}</span>
      <ul class="hint policy">
        % for rule in policy:
        <li>{{rule}}</li>
        % end
      </ul>
    </label>
    <label class="field">
      <span>{{_("Repeat the password")}}</span>
      <input type="password" name="confirm" autocomplete="new-password" required
             class="{{'invalid' if 'confirm' in problems else ''}}">
      % if 'confirm' in problems:
      <span class="field-error" role="alert">{{problems['confirm']}}</span>
      % end
    </label>
    <button class="btn btn-primary btn-block" type="submit">{{_("Create administrator")}}</button>
  </form>
  % include('language_switch', switch_next='/setup')
</section>
