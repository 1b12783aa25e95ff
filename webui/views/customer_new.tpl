% rebase('layout', main_class='page')
<div class="page-head">
  <h1>{{_("New customer")}}</h1>
  <p class="crumbs"><a href="/customers">{{_("Customers")}}</a></p>
</div>
<section class="card form-card">
  % if problems:
  <p class="form-error" role="alert">{{_("The customer was not created: see the fields marked below.")}}</p>
  % end
  <form method="post" action="/customers/new" class="stack" id="customer-form">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % include('customer_fields')
    <button class="btn btn-primary" type="submit">{{_("Create customer")}}</button>
  </form>
</section>
