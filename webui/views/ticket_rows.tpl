<div class="table-wrap">
  <table class="table table-tickets">
    <thead><tr>
      <th>{{_("Ticket")}}</th><th>{{_("Title")}}</th><th>{{_("State")}}</th><th>{{_("Category")}}</th>
      <th>{{_("Priority")}}</th><th>{{_("Department")}}</th><th>{{_("Number")}}</th><th>{{_("Created")}}</th>
      <th>{{_("Due")}}</th>
    </tr></thead>
    <tbody>
      % for t in tickets:
      % late = is_overdue(t, now)
      <tr class="{{'overdue' if late else ''}}">
        <td class="mono"><a href="/tickets/{{t['id']}}">{{t['id'][:8]}}</a>
          % if t['repeat_of']:
          <span class="st st-repeat">{{_("Repeat")}}</span>
          % end
        </td>
        <td>{{t['title']}}</td>
        <td><span class="st st-t-{{t['state']}}">{{choices['states'].get(t['state'], t['state'])}}</span></td>
        <td>{{choices['categories'].get(t['category'], t['category'])}}</td>
        <td>{{choices['priorities'].get(t['priority'], t['priority'])}}</td>
        <td>{{choices['departments'].get(t['department'], t['department'] or '—')}}</td>
        <td class="mono">{{t['number'] or '—'}}</td>
        <td class="mono nowrap">{{fmt.when(t['created_at'])}}</td>
        <td class="mono nowrap">{{fmt.when(t['due_at'])}}
          % if late:
          <span class="st st-overdue">{{_("Overdue")}}</span>
          % end
        </td>
      </tr>
      % end
      % if not tickets:
      <tr class="empty"><td colspan="9">{{empty}}</td></tr>
      % end
    </tbody>
  </table>
</div>
