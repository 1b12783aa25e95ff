% rebase('layout', main_class='page')
<div class="page-head">
  <h1>{{article['title']}}</h1>
  <p class="crumbs"><a href="/kb">{{_("Knowledge base")}}</a>
  % if article['category']:
    · <a href="/kb?{{urlencode({'category': article['category']})}}">{{article['category']}}</a>
  % end
    · {{_("Changed %(when)s by %(who)s") % {"when": fmt.when(article['updated_at']), "who": article['author'] or fmt.NONE} }}
    · {{_("version %(n)s") % {"n": article['version']} }}</p>
</div>
% if article['tags']:
<p class="kb-tags">
  % for tag in article['tags']:
  <a class="tag" href="/kb?{{urlencode({'q': tag})}}">#{{tag}}</a>
  % end
</p>
% end
%# Rendered by webui/kb_render.py: raw HTML in the article is escaped and links are checked.
<article class="card kb-body" id="kb-body">{{!html}}</article>
% if can_edit:
<div class="actions">
  <a class="btn btn-primary" href="/kb/{{article['id']}}/edit">{{_("Edit")}}</a>
  <form method="post" action="/kb/{{article['id']}}/delete" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="version" value="{{article['version']}}">
    <button class="btn btn-warn" type="submit">{{_("Delete")}}</button>
  </form>
</div>
% end
