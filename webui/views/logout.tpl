% rebase('layout', main_class='page page-center')
<section class="card auth-card">
  <h1>Sign out</h1>
  <p class="lede">Signed in as {{user['username']}} ({{', '.join(user['roles'])}}).</p>
  <form method="post" action="/logout" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <button class="btn btn-primary btn-block" type="submit">Sign out</button>
  </form>
</section>
