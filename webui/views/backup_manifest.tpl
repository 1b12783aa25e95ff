<table class="table manifest">
  <tbody>
    <tr><th>{{_("Box")}}</th><td>{{m['box_id']}}</td></tr>
    <tr><th>{{_("Made")}}</th><td>{{fmt.when(m['created_at'])}}</td></tr>
    <tr><th>{{_("Software")}}</th><td>{{m.get('software', '')}}</td></tr>
    <tr><th>{{_("Schema")}}</th><td>{{len(m['schema'])}}</td></tr>
    <tr><th>{{_("Latest change")}}</th><td>{{m['latest_seq']}}</td></tr>
    <tr><th>{{_("Files")}}</th><td>{{len(m['members'])}}</td></tr>
    <tr><th>{{_("Recordings")}}</th><td>{{_("yes") if m.get('recordings') else _("no")}}</td></tr>
  </tbody>
</table>
