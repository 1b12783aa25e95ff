% rebase('layout', main_class='page page-wide')
<div class="page-head">
  <h1>{{_("Knowledge base")}}</h1>
  <p class="crumbs">{{_("Answers, procedures and policies for the hotline. Search finds Chinese words inside sentences and English words in any form.")}}</p>
</div>
<section class="card">
  <form class="kb-search kb-search-page" method="get" action="/kb" role="search">
    <label class="field">
      <span>{{_("Search")}}</span>
      <input type="search" name="q" value="{{q}}" maxlength="200" autofocus
             class="{{'invalid' if problem else ''}}" aria-describedby="kb-q-error">
      % if problem:
      <span class="field-error" role="alert" id="kb-q-error">{{problem}}</span>
      % end
    </label>
    <label class="field">
      <span>{{_("Category")}}</span>
      <select name="category">
        <option value="">{{_("All categories")}}</option>
        % for name in categories:
        <option value="{{name}}" {{!'selected' if name == category else ''}}>{{name}}</option>
        % end
      </select>
    </label>
    <button class="btn btn-primary" type="submit">{{_("Search")}}</button>
    % if can_edit:
    <a class="btn" href="/kb/new">{{_("New article")}}</a>
    % end
  </form>
</section>
<section class="panel">
  <h2>{{_("Results for “%(q)s”") % {"q": q} if q else _("Recently changed")}} <span class="count">{{fmt.number(total)}}</span></h2>
  % if not hits:
  <p class="muted">{{_("No article matches. Try fewer or other words.") if q else _("No articles yet.")}}</p>
  % end
  <ol class="kb-list" id="kb-results">
  % for hit in hits:
    <li>
      <a class="kb-title" href="/kb/{{hit['id']}}">{{hit['title']}}</a>
      % if hit['category']:
      <span class="role-tag">{{hit['category']}}</span>
      % end
      % for tag in hit['tags']:
      <span class="tag">#{{tag}}</span>
      % end
      % if 'snippet' in hit:
      %# The snippet is HTML escaped by webui/kb_search.py snippet(): only its <mark> tags are markup.
      <p class="kb-snippet">{{!hit['snippet']}}</p>
      % end
      <p class="muted small">{{_("Changed %(when)s by %(who)s") % {"when": fmt.when(hit['updated_at']), "who": hit['author'] or fmt.NONE} }}</p>
    </li>
  % end
  </ol>
  % if pages > 1:
  <nav class="pager">
    % if page > 1:
    <a class="btn" href="/kb?{{urlencode({'q': q, 'category': category, 'page': page - 1})}}">{{_("Previous")}}</a>
    % end
    <span>{{_("Page %(page)s of %(pages)s") % {"page": fmt.number(page), "pages": fmt.number(pages)} }}</span>
    % if page < pages:
    <a class="btn" href="/kb?{{urlencode({'q': q, 'category': category, 'page': page + 1})}}">{{_("Next")}}</a>
    % end
  </nav>
  % end
</section>
