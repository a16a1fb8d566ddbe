"""Communications and learning: update templates, postmortems, action items, and
timeline import. Writes go through ``console.ops`` (timeline) or the small
operations here (postmortems, action items); no Qt."""
