// chat_messages.js: the conversation the app shows (turns of question and
// answer about one image) as OpenAI chat messages, and as the core's saved
// conversation. A server keeps no conversation: every follow-up resends the
// whole of it (server/API.md; endoscribe-server and vLLM reuse the cached
// prefix, so only the new tokens are computed). The image goes with the
// first question, before its text, as the local runtime puts it.

// turns: [{question, answer}] answered so far; question: the new one;
// imageUrl: the image's data: URL (null: a text-only chat).
export function chatMessages(turns, question, imageUrl, { systemPrompt = '' } = {}) {
  const messages = [];
  if (systemPrompt) messages.push({ role: 'system', content: systemPrompt });
  const all = [...turns.map((t) => ({ q: t.question, a: t.answer ?? '' })), { q: question, a: null }];
  all.forEach(({ q, a }, i) => {
    messages.push(i === 0 && imageUrl
      ? { role: 'user', content: [{ type: 'image_url', image_url: { url: imageUrl } }, { type: 'text', text: q }] }
      : { role: 'user', content: q });
    if (a !== null) messages.push({ role: 'assistant', content: a });
  });
  return messages;
}

// The same turns in the core's saved-conversation format (Chat.save(),
// src/assistant/conversation.h), so a conversation held with a server is
// saved with the case like a local one and a local model can carry it on:
// the ids are left empty and the core rebuilds them from the text with its
// own tokenizer when it restores it.
export function savedConversation(turns, { withImage = true, systemPrompt = '' } = {}) {
  return {
    format: 'endoscribe-conversation', version: 1, system: systemPrompt,
    turns: turns.map((t, i) => ({
      question: t.question, with_image: withImage && i === 0, prompt_ids: [], answer_ids: [],
      answer_text: t.answer ?? '', answered: true,
    })),
  };
}

// OpenAI's finish_reason as the app's reasons (panel_chat.cpp shows them).
export function finishReason(reason) {
  if (reason === 'length') return 'max_tokens';
  if (reason === 'stop' || reason === null || reason === undefined) return 'stop';
  return reason;
}
