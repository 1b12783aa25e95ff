% rebase('layout', main_class='page page-center')
<section class="card auth-card">
  <p class="error-code">{{status}}</p>
  <h1>{{title}}</h1>
  <p class="lede">{{message}}</p>
  <p><a class="btn btn-ghost" href="/">{{_("Back to the dashboard")}}</a>
  % if not user:
  <a class="btn btn-primary" href="/login">{{_("Sign in")}}</a>
  % end
  </p>
</section>
