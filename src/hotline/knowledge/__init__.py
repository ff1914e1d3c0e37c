"""The knowledge base (知识库): answers agents read out to callers, linked to categories, searchable
in Chinese (jieba), edited by admins."""
