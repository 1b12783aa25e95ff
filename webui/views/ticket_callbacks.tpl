% rebase('layout', main_class='page page-wide')
<div class="page-head">
  <p class="crumbs"><a href="/tickets">{{_("Tickets")}}</a></p>
  <h1>{{_("My callbacks")}}</h1>
  <p class="muted">{{_("Resolved tickets of yours: call each customer back, ask whether they are satisfied and record the answer.")}}</p>
</div>
<section class="panel">
  % include('ticket_rows', tickets=tickets, empty=_("No customer waits for your callback."))
</section>
