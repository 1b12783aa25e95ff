% rebase('layout', main_class='page page-wide')
<div class="page-head">
  <h1>{{_("Webhooks")}}</h1>
  <p class="crumbs">{{_("The box POSTs each event as JSON to every endpoint subscribed to it, signed in the %(header)s header (HMAC-SHA256 of the timestamp, a dot and the body), retries with growing delays for up to 3 days, and sends the events of one ticket in order. Receivers drop repeats by the event's id.") % {"header": signature_header} }}</p>
</div>
% if created:
<section class="card notice" role="status" id="new-secret">
  <h2>{{_("Endpoint added")}}</h2>
  <p>{{_("Its signing secret, shown this once: copy it into the receiver now.")}}</p>
  <p><code class="mono" id="secret">{{created['secret']}}</code></p>
  <p><a href="/webhooks/{{created['id']}}">{{_("Open the endpoint")}}</a></p>
</section>
% end
<section class="panel">
  <h2>{{_("Endpoints")}} <span class="count">{{len(endpoints)}}</span></h2>
  <div class="table-wrap">
    <table class="table" id="endpoints">
      <thead><tr><th>{{_("Receiver URL")}}</th><th>{{_("Events")}}</th><th>{{_("Description")}}</th>
        <th>{{_("Status")}}</th><th>{{_("Waiting")}}</th></tr></thead>
      <tbody>
      % for e in endpoints:
        <tr data-key="{{e['id']}}">
          <td class="mono"><a href="/webhooks/{{e['id']}}">{{e['url']}}</a></td>
          <td class="mono">{{", ".join(e['events'])}}</td>
          <td>{{e['description'] or fmt.NONE}}</td>
          <td>{{_("enabled") if e['enabled'] else _("disabled")}}</td>
          <td>{{e['pending']}}</td>
        </tr>
      % end
      </tbody>
    </table>
  </div>
</section>
<section class="card form-card" id="new-endpoint">
  <h2>{{_("Add an endpoint")}}</h2>
  % if error:
  <p class="form-error" role="alert">{{error}}</p>
  % end
  <form method="post" action="/webhooks" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % include('webhook_fields', secret_hint=_("Leave empty for the box to make one (256 random bits), or paste the receiver's: 24 to 256 characters."))
    <button class="btn btn-primary" type="submit">{{_("Add endpoint")}}</button>
  </form>
</section>
<section class="panel">
  <h2>{{_("Recent deliveries")}}</h2>
  % include('webhook_deliveries')
</section>
