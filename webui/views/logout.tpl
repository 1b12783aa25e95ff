% rebase('layout', main_class='page page-center')
<section class="card auth-card">
  <h1>{{_("Sign out")}}</h1>
  <p class="lede">{{_("Signed in as %(name)s (%(roles)s).") % {'name': user['username'], 'roles': ', '.join(_(role) for role in user['roles'])} }}</p>
  <form method="post" action="/logout" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <button class="btn btn-primary btn-block" type="submit">{{_("Sign out")}}</button>
  </form>
</section>
