% rebase('layout', main_class='page')
<div class="page-head">
  <p class="crumbs"><a href="/campaigns">{{_("Campaigns")}}</a></p>
  <h1>{{_("New campaign")}}</h1>
</div>
% include('campaign_form', action='/campaigns/new', editable=True)
